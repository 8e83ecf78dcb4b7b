/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The engine's one-pass inventory parser (src/engine/inventory-json.h) against what the
 * engine computed before with json-glib (a tree, each element's text generated again), on the
 * devices and groups of every fixture topology, and its rules one by one, refusals included.
 */
#include "config.h"

#include <gio/gio.h>
#include <json-glib/json-glib.h>
#include <string.h>

#include "devices.h"
#include "inventory-json.h"
#include "testlib.h"

/* The engine's former parse (sync.c before inventory-json.c), kept here as the reference. */
static GPtrArray *reference_parse(const char *text, HdInvKind kind)
{
        g_autoptr(JsonParser) p = json_parser_new_immutable();
        g_autoptr(GPtrArray) items =
            g_ptr_array_new_with_free_func((GDestroyNotify)hd_inv_item_free);
        JsonNode *root, *n;
        JsonArray *a;

        g_assert_true(json_parser_load_from_data(p, text, -1, NULL));
        root = json_parser_get_root(p);
        g_assert_true(JSON_NODE_HOLDS_OBJECT(root));
        n = json_object_get_member(json_node_get_object(root),
                                   kind == HD_INV_DEVICES ? "devices" : "groups");
        g_assert_true(n && JSON_NODE_HOLDS_ARRAY(n));
        a = json_node_get_array(n);
        for (guint i = 0; i < json_array_get_length(a); i++) {
                JsonObject *eo = json_node_get_object(json_array_get_element(a, i));
                HdInvItem *it = g_new0(HdInvItem, 1);
                JsonNode *g;

                it->iommu_group = -1;
                if (kind == HD_INV_DEVICES) {
                        it->key = g_strdup(
                            json_object_get_string_member_with_default(eo, "address", NULL));
                        it->vendor_id = g_strdup(
                            json_object_get_string_member_with_default(eo, "vendor_id", NULL));
                        it->device_id = g_strdup(
                            json_object_get_string_member_with_default(eo, "device_id", NULL));
                        g = json_object_get_member(eo, "driver");
                        if (g && JSON_NODE_HOLDS_VALUE(g) &&
                            json_node_get_value_type(g) == G_TYPE_STRING)
                                it->driver = g_strdup(json_node_get_string(g));
                        g = json_object_get_member(eo, "iommu_group");
                        if (g && JSON_NODE_HOLDS_VALUE(g) &&
                            json_node_get_value_type(g) == G_TYPE_INT64)
                                it->iommu_group = json_node_get_int(g);
                        /* the facets from the tree (devices.h) */
                        it->category = g_strdup(hd_device_category(eo));
                        it->search = hd_device_search_text(eo);
                } else {
                        g = json_object_get_member(eo, "group");
                        it->key = g_strdup_printf("%" G_GINT64_FORMAT, json_node_get_int(g));
                }
                it->data = json_to_string(json_array_get_element(a, i), FALSE);
                g_ptr_array_add(items, it);
        }
        return g_steal_pointer(&items);
}

static GPtrArray *parse_ok(const char *text, HdInvKind kind)
{
        g_autoptr(GError) error = NULL;
        GPtrArray *items = hd_inventory_json_parse(text, strlen(text), kind, &error);

        g_assert_no_error(error);
        g_assert_nonnull(items);
        return items;
}

static void assert_same_items(GPtrArray *got, GPtrArray *want)
{
        g_assert_cmpuint(got->len, ==, want->len);
        for (guint i = 0; i < got->len; i++) {
                const HdInvItem *g = got->pdata[i], *w = want->pdata[i];
                g_assert_cmpstr(g->key, ==, w->key);
                g_assert_cmpstr(g->vendor_id, ==, w->vendor_id);
                g_assert_cmpstr(g->device_id, ==, w->device_id);
                g_assert_cmpstr(g->driver, ==, w->driver);
                g_assert_cmpint(g->iommu_group, ==, w->iommu_group);
                g_assert_cmpstr(g->category, ==, w->category);
                g_assert_cmpstr(g->search, ==, w->search);
                g_assert_cmpstr(g->data, ==, w->data);
        }
}

/* `hostdev list --json` and `groups --json` are the agent's device and group objects
 * (json-export.h), written the way the agent writes them. */
static void test_fixtures(void)
{
        g_autofree char *dir =
            g_build_filename(g_getenv("HOSTDEV_SOURCE_DIR"), "tests/fixtures/topologies", NULL);
        g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
        const char *name;
        guint n_topologies = 0, n_devices = 0;

        g_assert_nonnull(d);
        while ((name = g_dir_read_name(d))) {
                g_autofree char *topo = NULL;
                g_autoptr(HdTestFixture) fx = NULL;

                if (!g_str_has_suffix(name, ".json"))
                        continue;
                topo = g_strndup(name, strlen(name) - 5);
                fx = hd_test_fixture_new(topo);
                for (int k = 0; k < 2; k++) {
                        HdInvKind kind = k == 0 ? HD_INV_DEVICES : HD_INV_GROUPS;
                        const char *argv[] = {"--root", fx->root, k == 0 ? "list" : "groups",
                                              "--json", NULL};
                        g_autofree char *out = NULL;
                        g_autoptr(GPtrArray) want = NULL;
                        g_autoptr(GPtrArray) got = NULL;
                        g_autofree char *doc = NULL;

                        g_assert_cmpint(hd_test_run_cli(argv, NULL, &out, NULL), ==, 0);
                        /* the agent's document: the generation first */
                        g_assert_true(out[0] == '{');
                        doc = g_strdup_printf("{\n  \"generation\" : 7,%s", out + 1);
                        want = reference_parse(doc, kind);
                        got = parse_ok(doc, kind);
                        assert_same_items(got, want);
                        if (kind == HD_INV_DEVICES)
                                n_devices += got->len;
                }
                n_topologies++;
        }
        g_assert_cmpuint(n_topologies, >=, 10);
        g_assert_cmpuint(n_devices, >, 100);
}

/* Values the agent does not write today but JSON allows: decoded where they are columns,
 * copied as they are into the text. */
static void test_rules(void)
{
        /* escapes in a column are decoded; the text keeps them as written, compacted */
        {
                const char *doc = "{ \"devices\" : [ { \"address\" : \"0000:00:00.\\u0030\" , "
                                  "\"driver\" : \"a\\\"b\\\\c\\/d\\n\\ud83d\\ude00\" , "
                                  "\"iommu_group\" : 12 , \"x\" : [ 1 , -2.5e+3 , true , false , "
                                  "null , { } , [ ] ] } ] }";
                g_autoptr(GPtrArray) items = parse_ok(doc, HD_INV_DEVICES);
                const HdInvItem *it = items->pdata[0];

                g_assert_cmpuint(items->len, ==, 1);
                g_assert_cmpstr(it->key, ==, "0000:00:00.0");
                g_assert_cmpstr(it->driver, ==, "a\"b\\c/d\n\xf0\x9f\x98\x80");
                g_assert_cmpint(it->iommu_group, ==, 12);
                g_assert_null(it->vendor_id);
                g_assert_cmpstr(it->data, ==,
                                "{\"address\":\"0000:00:00.\\u0030\",\"driver\":\"a\\\"b\\\\c\\/"
                                "d\\n\\ud83d\\ude00\",\"iommu_group\":12,\"x\":[1,-2.5e+3,true,"
                                "false,null,{},[]]}");
        }
        /* a repeated member: the last counts, in the document and in an element */
        {
                const char *doc =
                    "{\"devices\":[{\"address\":\"a\"}],\"devices\":[{\"address\":\"b\","
                    "\"driver\":\"x\",\"driver\":null,\"iommu_group\":3,"
                    "\"iommu_group\":\"4\"}]}";
                g_autoptr(GPtrArray) items = parse_ok(doc, HD_INV_DEVICES);
                const HdInvItem *it = items->pdata[0];

                g_assert_cmpuint(items->len, ==, 1);
                g_assert_cmpstr(it->key, ==, "b");
                g_assert_null(it->driver);
                g_assert_cmpint(it->iommu_group, ==, -1);
        }
        /* only the element's own members are columns; non-integers are no group */
        {
                const char *doc = "{\"devices\":[{\"address\":\"a\",\"sub\":{\"driver\":\"x\","
                                  "\"address\":\"z\"},\"iommu_group\":1.0},{\"address\":\"b\","
                                  "\"iommu_group\":99999999999999999999},{\"address\":\"c\","
                                  "\"iommu_group\":-1e2}]}";
                g_autoptr(GPtrArray) items = parse_ok(doc, HD_INV_DEVICES);

                g_assert_cmpuint(items->len, ==, 3);
                g_assert_cmpstr(((HdInvItem *)items->pdata[0])->key, ==, "a");
                g_assert_null(((HdInvItem *)items->pdata[0])->driver);
                for (guint i = 0; i < 3; i++)
                        g_assert_cmpint(((HdInvItem *)items->pdata[i])->iommu_group, ==, -1);
        }
        /* groups: the number as decimal text; an empty list; other members skipped */
        {
                const char *doc = "{\"generation\":3,\"groups\":[{\"group\":0},{\"group\":-0,"
                                  "\"devices\":[]},{\"group\":170}],\"more\":{\"a\":[{}]}}";
                g_autoptr(GPtrArray) items = parse_ok(doc, HD_INV_GROUPS);
                g_autoptr(GPtrArray) empty = parse_ok(" {\"groups\":[ ]} \n", HD_INV_GROUPS);

                g_assert_cmpuint(items->len, ==, 3);
                g_assert_cmpstr(((HdInvItem *)items->pdata[0])->key, ==, "0");
                g_assert_cmpstr(((HdInvItem *)items->pdata[1])->key, ==, "0");
                g_assert_cmpstr(((HdInvItem *)items->pdata[1])->data, ==,
                                "{\"group\":-0,\"devices\":[]}");
                g_assert_cmpstr(((HdInvItem *)items->pdata[2])->key, ==, "170");
                g_assert_cmpuint(empty->len, ==, 0);
        }
}

/* Each refusal: NULL, G_IO_ERROR_INVALID_DATA, and what was wrong. */
static void test_refusals(void)
{
        static const struct {
                const char *doc;
                HdInvKind kind;
                const char *message;
        } cases[] = {
            {"", HD_INV_DEVICES, "the document is not an object at byte 0"},
            {"[]", HD_INV_DEVICES, "the document is not an object"},
            {"{}", HD_INV_DEVICES, "no \"devices\" member"},
            {"{\"groups\":[]}", HD_INV_DEVICES, "no \"devices\" member"},
            {"{\"devices\":{}}", HD_INV_DEVICES, "\"devices\" is not an array"},
            {"{\"groups\":null}", HD_INV_GROUPS, "\"groups\" is not an array"},
            {"{\"devices\":[1]}", HD_INV_DEVICES, "an array element that is not an object"},
            {"{\"devices\":[{}]}", HD_INV_DEVICES, "a device without an \"address\" string"},
            {"{\"devices\":[{\"address\":5}]}", HD_INV_DEVICES,
             "a device without an \"address\" string"},
            {"{\"groups\":[{\"group\":\"1\"}]}", HD_INV_GROUPS,
             "a group without an integer \"group\""},
            {"{\"groups\":[{\"group\":1.5}]}", HD_INV_GROUPS,
             "a group without an integer \"group\""},
            {"{\"devices\":[]} x", HD_INV_DEVICES, "bytes after the document at byte 15"},
            {"{\"devices\":[]}{}", HD_INV_DEVICES, "bytes after the document"},
            {"{\"devices\":[],}", HD_INV_DEVICES, "a member name expected"},
            {"{\"devices\":[{\"address\":\"a\"},]}", HD_INV_DEVICES,
             "an array element that is not an object"},
            {"{\"devices\" [] }", HD_INV_DEVICES, "':' expected"},
            {"{\"devices\":[] \"x\":1}", HD_INV_DEVICES, "',' or '}' expected"},
            {"{\"devices\":[{\"address\":\"a\"} {}]}", HD_INV_DEVICES, "',' or ']' expected"},
            {"{\"devices\":[{\"address\":\"a\" \"b\":1}]}", HD_INV_DEVICES, "',' or '}' expected"},
            {"{\"devices\":[{\"address\":\"a\",\"x\":[1 2]}]}", HD_INV_DEVICES,
             "',' or ']' expected"},
            {"{\"devices\":[{\"address\":\"a\"}", HD_INV_DEVICES, "',' or ']' expected"},
            {"{\"x\":tru,\"devices\":[]}", HD_INV_DEVICES, "an unexpected character"},
            {"{\"x\":nul}", HD_INV_DEVICES, "an unexpected character"},
            {"{\"x\":01}", HD_INV_DEVICES, "',' or '}' expected"},
            {"{\"x\":-}", HD_INV_DEVICES, "a bad number"},
            {"{\"x\":1.}", HD_INV_DEVICES, "a bad number"},
            {"{\"x\":1e}", HD_INV_DEVICES, "a bad number"},
            {"{\"x\":+1}", HD_INV_DEVICES, "a bad number"},
            {"{\"x\":'a'}", HD_INV_DEVICES, "a bad number"},
            {"{\"x\":\"a", HD_INV_DEVICES, "an unterminated string"},
            {"{\"x\":\"a\\", HD_INV_DEVICES, "an unterminated escape"},
            {"{\"x\":\"a\tb\"}", HD_INV_DEVICES, "a control character in a string"},
            {"{\"x\":\"\\x\"}", HD_INV_DEVICES, "an unknown escape"},
            {"{\"x\":\"\\u12\"}", HD_INV_DEVICES, "a bad \\u escape"},
            {"{\"x\":\"\\u12", HD_INV_DEVICES, "a short \\u escape"},
            {"{\"x\":\"\\u0000\"}", HD_INV_DEVICES, "\\u0000 in a string"},
            {"{\"x\":\"\\udc00\"}", HD_INV_DEVICES, "an unpaired surrogate"},
            {"{\"x\":\"\\ud800x\"}", HD_INV_DEVICES, "an unpaired surrogate"},
            {"{\"x\":\"\\ud800\\u0041\"}", HD_INV_DEVICES, "an unpaired surrogate"},
            {"{\"x\":\"\xc3\x28\"}", HD_INV_DEVICES, "a string that is not UTF-8 at byte 5"},
            {"{\"devices\":[{\"address\":\"\xff\"}]}", HD_INV_DEVICES,
             "a string that is not UTF-8"},
            {"{\"x\":", HD_INV_DEVICES, "a value expected"},
        };

        for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
                g_autoptr(GError) error = NULL;
                g_autoptr(GPtrArray) items = hd_inventory_json_parse(
                    cases[i].doc, strlen(cases[i].doc), cases[i].kind, &error);

                if (items)
                        g_error("case %zu (%s) was accepted", i, cases[i].doc);
                g_assert_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA);
                g_assert_true(g_str_has_prefix(error->message, "not an inventory document: "));
                if (!strstr(error->message, cases[i].message))
                        g_error("case %zu (%s): \"%s\" does not say \"%s\"", i, cases[i].doc,
                                error->message, cases[i].message);
        }
        /* nesting: 64 levels are refused, the document's own depth counted */
        {
                g_autoptr(GString) deep = g_string_new("{\"x\":");
                g_autoptr(GError) error = NULL;
                g_autoptr(GPtrArray) items = NULL;

                for (int i = 0; i < 70; i++)
                        g_string_append_c(deep, '[');
                for (int i = 0; i < 70; i++)
                        g_string_append_c(deep, ']');
                g_string_append(deep, ",\"devices\":[]}");
                items = hd_inventory_json_parse(deep->str, deep->len, HD_INV_DEVICES, &error);
                g_assert_null(items);
                g_assert_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA);
                g_assert_nonnull(strstr(error->message, "nesting deeper than 64"));
        }
        /* a NUL byte inside the document is not JSON */
        {
                static const char doc[] = "{\"devices\":[]}\0";
                g_autoptr(GError) error = NULL;
                g_autoptr(GPtrArray) items =
                    hd_inventory_json_parse(doc, sizeof(doc) - 1, HD_INV_DEVICES, &error);
                g_assert_null(items);
                g_assert_nonnull(strstr(error->message, "bytes after the document"));
        }
}

int main(int argc, char **argv)
{
        g_test_init(&argc, &argv, NULL);
        g_test_add_func("/engine-inventory/fixtures", test_fixtures);
        g_test_add_func("/engine-inventory/rules", test_rules);
        g_test_add_func("/engine-inventory/refusals", test_refusals);
        return g_test_run();
}
