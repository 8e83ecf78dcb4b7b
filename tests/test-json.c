/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The streaming JSON writer prints exactly what json-glib's generator prints for the same
 * tree: the device and group objects of every fixture topology, and strings with every byte
 * that needs (or looks like it needs) escaping. */
#include "config.h"

#include <string.h>

#include "testlib.h"

static gboolean append_to_gstring(const char *data, gsize len, gpointer user_data)
{
        g_string_append_len(user_data, data, (gssize)len);
        return TRUE;
}

typedef void (*WriteFunc)(HdJsonWriter *w, gpointer data);

/* Run @write against a builder sink (then json-glib's generator) and a stream sink. */
static void assert_same_text(WriteFunc write, gpointer data)
{
        g_autoptr(JsonBuilder) b = json_builder_new();
        g_autoptr(GString) streamed = g_string_new(NULL);
        g_autofree char *generated = NULL;

        {
                g_autoptr(HdJsonWriter) w = hd_json_writer_new_builder(b);
                write(w, data);
        }
        generated = hd_json_to_string(b, TRUE);
        {
                g_autoptr(HdJsonWriter) w = hd_json_writer_new_stream(append_to_gstring, streamed);
                write(w, data);
                g_assert_true(hd_json_writer_finish(w));
        }
        g_assert_cmpstr(streamed->str, ==, generated);
}

static void write_inventory(HdJsonWriter *w, gpointer data)
{
        HdInventory *inv = data;

        hd_json_writer_begin_object(w);
        hd_json_writer_member(w, "devices");
        hd_json_writer_begin_array(w);
        for (guint i = 0; i < inv->devices->len; i++)
                hd_json_write_device(w, inv->devices->pdata[i], FALSE);
        hd_json_writer_end_array(w);
        hd_json_writer_member(w, "detail");
        hd_json_writer_begin_array(w);
        for (guint i = 0; i < inv->devices->len; i++)
                hd_json_write_device(w, inv->devices->pdata[i], TRUE);
        hd_json_writer_end_array(w);
        hd_json_writer_member(w, "groups");
        hd_json_writer_begin_array(w);
        for (guint i = 0; i < inv->groups->len; i++)
                hd_json_write_group(w, inv->groups->pdata[i]);
        hd_json_writer_end_array(w);
        hd_json_writer_end_object(w);
}

static void test_topology(gconstpointer name)
{
        g_autoptr(HdTestFixture) fx = hd_test_fixture_new(name);
        g_autoptr(HdCtx) ctx = hd_test_ctx_new(fx);
        g_autoptr(GError) error = NULL;
        /* Everything but USERS: every field of the detail objects, nulls and values. */
        g_autoptr(HdInventory) inv =
                hd_inventory_scan(ctx, HD_FIELDS_ALL & ~HD_FIELD_USERS, &error);

        g_assert_no_error(error);
        for (guint i = 0; i < inv->groups->len; i++)
                hd_group_evaluate(inv->groups->pdata[i], ctx);
        assert_same_text(write_inventory, inv);
}

static void write_shapes(HdJsonWriter *w, gpointer data)
{
        const char *const *strings = data;

        hd_json_writer_begin_array(w);
        hd_json_writer_begin_object(w); /* json-glib's "{  }" */
        hd_json_writer_end_object(w);
        hd_json_writer_begin_array(w);
        hd_json_writer_end_array(w);
        hd_json_writer_begin_object(w);
        hd_json_writer_member(w, "empty");
        hd_json_writer_begin_object(w);
        hd_json_writer_end_object(w);
        hd_json_writer_member(w, "ints");
        hd_json_writer_begin_array(w);
        hd_json_writer_int(w, 0);
        hd_json_writer_int(w, -1);
        hd_json_writer_int(w, G_MAXINT64);
        hd_json_writer_int(w, G_MININT64);
        hd_json_writer_end_array(w);
        hd_json_writer_member(w, "na\"me\n\x01");
        hd_json_writer_bool(w, TRUE);
        hd_json_writer_member(w, "no");
        hd_json_writer_bool(w, FALSE);
        hd_json_writer_member(w, "null");
        hd_json_writer_string(w, NULL);
        hd_json_writer_end_object(w);
        for (const char *const *s = strings; *s; s++)
                hd_json_writer_string(w, *s);
        hd_json_writer_end_array(w);
}

static void test_shapes_and_escaping(void)
{
        char ascii[128];
        const char *strings[] = { ascii, "", "plain", "\"quoted\" \\ back\\slash",
                                  "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", "bad \xff\xc3 utf-8",
                                  "\x1f unit separator", "tab\there", NULL };

        for (int c = 1; c < 128; c++)
                ascii[c - 1] = (char)c;
        ascii[127] = '\0';
        assert_same_text(write_shapes, strings);
}

int main(int argc, char **argv)
{
        static const char *const topologies[] = { "desktop",  "sriov-server",  "amd-host",
                                                  "pci-bridge", "already-vfio", "no-iommu",
                                                  "firmware-only" };

        g_test_init(&argc, &argv, NULL);
        g_test_add_func("/json/shapes-and-escaping", test_shapes_and_escaping);
        for (guint i = 0; i < G_N_ELEMENTS(topologies); i++) {
                g_autofree char *path = g_strdup_printf("/json/stream-equals-generator/%s",
                                                        topologies[i]);
                g_test_add_data_func(path, topologies[i], test_topology);
        }
        return g_test_run();
}
