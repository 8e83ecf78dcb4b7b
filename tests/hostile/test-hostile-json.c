/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Hostile request bodies (issue 11, item 3): the strict RFC 8259 validator
 * (src/basic/json-strict.c) on a table of valid and invalid texts, and the agent's body parsers
 * (src/agent/request.c) on the bodies that used to be misread: "dry_run": null taken as absent
 * (a real detach), a duplicate "dry_run" whose last value wins, comments, single quotes, a BOM,
 * bytes that are not UTF-8, deep nesting.
 */
#include "config.h"

#include <string.h>

#include "json-strict.h"
#include "request.h"
#include "testlib.h"

typedef struct {
        const char *text;
        gssize len; /* -1: strlen */
        int code;   /* -1: valid; else the HdJsonStrictError */
} Case;

/* clang-format off */
#define OK(t) {t, -1, -1}
#define BAD(t, c) {t, -1, HD_JSON_STRICT_ERROR_##c}
#define BADN(t, n, c) {t, n, HD_JSON_STRICT_ERROR_##c}

static const Case cases[] = {
        /* valid RFC 8259 */
        OK("{}"),
        OK("[]"),
        OK(" \t\r\n{ } \n"),
        OK("0"),
        OK("-0"),
        OK("-0.5e-3"),
        OK("1E+10"),
        OK("123456789012345678901234567890"),
        OK("true"),
        OK("null"),
        OK("\"\""),
        OK("\"\\\" \\\\ \\/ \\b \\f \\n \\r \\t\""),
        OK("\"\\u00e9 \\uD83D\\uDE00 \\uFFFF\""),
        OK("\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80 \xf4\x8f\xbf\xbf \xef\xbf\xbe\""),
        OK("{\"a\":1,\"b\":[1,2,{\"c\":null}],\"d\":{\"a\":2}}"),
        OK("[{\"a\":1},{\"a\":2}]"), /* one name in two objects is no duplicate */
        OK("{\"a\":1,\"A\":2,\"a \":3}"),
        OK("\"\x7f\""),
        /* not JSON */
        BAD("", SYNTAX),
        BAD("   ", SYNTAX),
        BAD("{", SYNTAX),
        BAD("{}}", SYNTAX),
        BAD("{} {}", SYNTAX),
        BAD("{\"a\":1,}", SYNTAX),
        BAD("[1,]", SYNTAX),
        BAD("[,1]", SYNTAX),
        BAD("[1 2]", SYNTAX),
        BAD("{\"a\" 1}", SYNTAX),
        BAD("{\"a\":}", SYNTAX),
        BAD("{a:1}", SYNTAX),
        BAD("{'a':1}", SYNTAX),
        BAD("['a']", SYNTAX),
        BAD("{\"a\":1 /* comment */}", SYNTAX),
        BAD("// comment\n{}", SYNTAX),
        BAD("# comment\n{}", SYNTAX),
        BAD("\xef\xbb\xbf{}", SYNTAX),
        BAD("NaN", SYNTAX),
        BAD("[Infinity]", SYNTAX),
        BAD("[-Infinity]", SYNTAX),
        BAD("+1", SYNTAX),
        BAD("01", SYNTAX),
        BAD("-01", SYNTAX),
        BAD("1.", SYNTAX),
        BAD(".5", SYNTAX),
        BAD("1e", SYNTAX),
        BAD("1e+", SYNTAX),
        BAD("0x10", SYNTAX),
        BAD("-", SYNTAX),
        BAD("tru", SYNTAX),
        BAD("True", SYNTAX),
        BAD("nul", SYNTAX),
        BAD("\"abc", SYNTAX),
        BAD("\"\\x41\"", SYNTAX),
        BAD("\"\\u12\"", SYNTAX),
        BAD("\"\\u12G4\"", SYNTAX),
        BAD("\"\\'\"", SYNTAX),
        BAD("\"\\", SYNTAX),
        BAD("{\"a\":1\x0b}", SYNTAX), /* vertical tab is no JSON whitespace */
        BAD("\xc2\xa0{}", SYNTAX),    /* nor is NO-BREAK SPACE */
        BADN("{}\0", 3, SYNTAX),
        BADN("\0{}", 3, SYNTAX),
        /* strings: control characters, UTF-8, surrogates */
        BAD("\"a\tb\"", ENCODING),
        BAD("\"a\nb\"", ENCODING),
        BAD("\"\x1f\"", ENCODING),
        BADN("\"a\0b\"", 5, ENCODING),
        BAD("\"\\u0000\"", ENCODING), /* the agent's NO_NUL; see test_nul */
        BAD("\"\xff\"", ENCODING),
        BAD("\"\x80\"", ENCODING),
        BAD("\"\xc3\"", ENCODING),
        BAD("\"\xc3\x28\"", ENCODING),
        BAD("\"\xc0\xaf\"", ENCODING),         /* overlong '/' */
        BAD("\"\xc1\xbf\"", ENCODING),         /* overlong */
        BAD("\"\xe0\x80\xaf\"", ENCODING),     /* overlong, 3 bytes */
        BAD("\"\xf0\x80\x80\xaf\"", ENCODING), /* overlong, 4 bytes */
        BAD("\"\xed\xa0\x80\"", ENCODING),     /* encoded surrogate U+D800 */
        BAD("\"\xed\xbf\xbf\"", ENCODING),     /* encoded surrogate U+DFFF */
        BAD("\"\xf4\x90\x80\x80\"", ENCODING), /* U+110000 */
        BAD("\"\xf5\x80\x80\x80\"", ENCODING),
        BAD("\"\xe2\x82\"", ENCODING), /* truncated */
        BAD("\"\\uD800\"", ENCODING),  /* lone high surrogate */
        BAD("\"\\uDC00\"", ENCODING),  /* lone low surrogate */
        BAD("\"\\uD800\\u0041\"", ENCODING),
        BAD("\"\\uD800x\"", ENCODING),
        BAD("\"\\uDE00\\uD83D\"", ENCODING), /* reversed pair */
        /* duplicates, after unescaping */
        BAD("{\"a\":1,\"a\":1}", DUPLICATE),
        BAD("{\"\":1,\"\":2}", DUPLICATE), /* the empty name (found by fuzz-json-strict) */
        BAD("{\"a\":1,\"b\":2,\"a\":3}", DUPLICATE),
        BAD("{\"a\":1,\"\\u0061\":2}", DUPLICATE),
        BAD("{\"\\/\":1,\"/\":2}", DUPLICATE),
        BAD("{\"x\":{\"a\":1,\"a\":2}}", DUPLICATE),
        BAD("[{\"a\":1},{\"b\":1,\"b\":2}]", DUPLICATE),
        BAD("{\"\xc3\xa9\":1,\"\\u00e9\":2}", DUPLICATE),
};
/* clang-format on */

static void test_case(gconstpointer data)
{
        const Case *c = data;
        gsize len = c->len < 0 ? strlen(c->text) : (gsize)c->len;
        g_autoptr(GError) error = NULL;
        gboolean ok = hd_json_strict_validate(c->text, len, HD_JSON_STRICT_DEPTH_DEFAULT,
                                              HD_JSON_STRICT_NO_NUL, NULL, &error);

        if (c->code < 0) {
                g_assert_no_error(error);
                g_assert_true(ok);
                return;
        }
        g_assert_false(ok);
        g_assert_error(error, HD_JSON_STRICT_ERROR, c->code);
        g_assert_true(g_utf8_validate(error->message, -1, NULL));
        if (c->code != HD_JSON_STRICT_ERROR_DUPLICATE)
                g_assert_true(g_str_has_prefix(error->message, "at byte "));
}

/* \u0000 is valid JSON; only the NO_NUL flag refuses it. */
static void test_nul(void)
{
        g_autoptr(GError) error = NULL;

        g_assert_true(hd_json_strict_validate("\"a\\u0000b\"", 10, 8, 0, NULL, &error));
        g_assert_no_error(error);
        g_assert_false(
            hd_json_strict_validate("\"a\\u0000b\"", 10, 8, HD_JSON_STRICT_NO_NUL, NULL, &error));
        g_assert_error(error, HD_JSON_STRICT_ERROR, HD_JSON_STRICT_ERROR_ENCODING);
}

static char *nested(guint depth)
{
        GString *s = g_string_new(NULL);

        for (guint i = 0; i < depth; i++)
                g_string_append(s, i % 2 ? "{\"a\":" : "[");
        g_string_append(s, "1");
        for (guint i = depth; i-- > 0;)
                g_string_append_c(s, i % 2 ? '}' : ']');
        return g_string_free(s, FALSE);
}

static void test_depth(void)
{
        g_autofree char *at_limit = nested(8);
        g_autofree char *over = nested(9);
        g_autofree char *huge = nested(200000);
        g_autoptr(GError) error = NULL;

        g_assert_true(hd_json_strict_validate(at_limit, strlen(at_limit), 8, 0, NULL, &error));
        g_assert_no_error(error);
        g_assert_false(hd_json_strict_validate(over, strlen(over), 8, 0, NULL, &error));
        g_assert_error(error, HD_JSON_STRICT_ERROR, HD_JSON_STRICT_ERROR_DEPTH);
        g_clear_error(&error);
        /* no recursion: the ceiling holds whatever the caller asks */
        g_assert_false(hd_json_strict_validate(huge, strlen(huge), G_MAXUINT, 0, NULL, &error));
        g_assert_error(error, HD_JSON_STRICT_ERROR, HD_JSON_STRICT_ERROR_DEPTH);
}

static void test_duplicate_name(void)
{
        g_autoptr(GError) error = NULL;
        g_autofree char *name = NULL;
        const char *text = "{\"group\":true,\"dry\\u005frun\":true,\"dry_run\":false}";

        g_assert_false(hd_json_strict_validate(text, strlen(text), 8, 0, &name, &error));
        g_assert_error(error, HD_JSON_STRICT_ERROR, HD_JSON_STRICT_ERROR_DUPLICATE);
        g_assert_cmpstr(name, ==, "dry_run");
        g_assert_nonnull(strstr(error->message, "\"dry_run\""));
        g_clear_error(&error);
        g_clear_pointer(&name, g_free);
        g_assert_false(hd_json_strict_validate("{\"\":1,\"\":2}", 13, 8, 0, &name, &error));
        g_assert_error(error, HD_JSON_STRICT_ERROR, HD_JSON_STRICT_ERROR_DUPLICATE);
        g_assert_cmpstr(name, ==, "");
}

/* hd_body_parse() refuses @body with HD_ERROR_INVALID_ARGUMENT (the agent's 400) and a
 * message holding @needle. */
static void assert_body_refused(const char *body, gssize len, const char *needle)
{
        g_autoptr(GError) error = NULL;
        g_autoptr(JsonObject) o = hd_body_parse(body, len < 0 ? strlen(body) : (gsize)len, &error);

        g_assert_null(o);
        g_assert_error(error, HD_ERROR, HD_ERROR_INVALID_ARGUMENT);
        g_assert_true(g_utf8_validate(error->message, -1, NULL));
        if (!strstr(error->message, needle))
                g_error("\"%s\" not in \"%s\"", needle, error->message);
}

/* hd_body_parse_bind(@action) refuses @body (after hd_body_parse accepts it). */
static void assert_bind_refused(const char *body, const char *action, const char *needle)
{
        g_autoptr(GError) error = NULL;
        g_autoptr(JsonObject) o = hd_body_parse(body, strlen(body), &error);
        HdBindArgs args;
        gboolean ok;

        g_assert_no_error(error);
        g_assert_nonnull(o);
        ok = hd_body_parse_bind(o, action, &args, &error);
        hd_bind_args_clear(&args);
        g_assert_false(ok);
        g_assert_error(error, HD_ERROR, HD_ERROR_INVALID_ARGUMENT);
        if (!strstr(error->message, needle))
                g_error("\"%s\" not in \"%s\"", needle, error->message);
}

static void test_body_null_dry_run(void)
{
        assert_bind_refused("{\"dry_run\": null}", "detach",
                            "\"dry_run\" must be true or false, not null");
        assert_bind_refused("{\"group\": null}", "attach", "\"group\" must be true or false");
        assert_bind_refused("{\"persist\": null}", "detach", "not null");
        assert_bind_refused("{\"force\": null}", "detach", "not null");
        assert_bind_refused("{\"driver\": null}", "attach", "\"driver\" must be a string");
        assert_bind_refused("{\"dry_run\": 0}", "detach", "\"dry_run\" must be true or false");
        assert_bind_refused("{\"dry_run\": \"true\"}", "detach", "true or false");
}

static void test_body_null_vm_and_kernel_args(void)
{
        const char *bad_vm[] = {
            "{\"name\":\"vm1\",\"hostdevs\":null}",
            "{\"name\":\"vm1\",\"disk_image\":null}",
            "{\"name\":\"vm1\",\"viommu\":null}",
            "{\"name\":\"vm1\",\"memory_mib\":null}",
            "{\"name\":null}",
        };
        const char *bad_ka[] = {"{\"dry_run\":null}", "{\"enable\":null}", "{\"custom\":null}"};

        for (gsize i = 0; i < G_N_ELEMENTS(bad_vm); i++) {
                g_autoptr(GError) error = NULL;
                g_autoptr(JsonObject) o = hd_body_parse(bad_vm[i], strlen(bad_vm[i]), &error);
                HdVmArgs v;
                gboolean ok;

                g_assert_no_error(error);
                ok = hd_body_parse_vm(o, &v, &error);
                hd_vm_args_clear(&v);
                g_assert_false(ok);
                g_assert_error(error, HD_ERROR, HD_ERROR_INVALID_ARGUMENT);
                g_assert_nonnull(strstr(error->message, "not null"));
        }
        for (gsize i = 0; i < G_N_ELEMENTS(bad_ka); i++) {
                g_autoptr(GError) error = NULL;
                g_autoptr(JsonObject) o = hd_body_parse(bad_ka[i], strlen(bad_ka[i]), &error);
                HdKernelArgsBody k;
                gboolean ok;

                g_assert_no_error(error);
                ok = hd_body_parse_kernel_args(o, &k, &error);
                hd_kernel_args_body_clear(&k);
                g_assert_false(ok);
                g_assert_error(error, HD_ERROR, HD_ERROR_INVALID_ARGUMENT);
                g_assert_nonnull(strstr(error->message, "not null"));
        }
}

static void test_body_duplicates(void)
{
        assert_body_refused("{\"dry_run\": true, \"dry_run\": false}", -1,
                            "member \"dry_run\" appears more than once");
        assert_body_refused("{\"dry_run\": false, \"dry_run\": true}", -1, "\"dry_run\"");
        assert_body_refused("{\"dry_run\": true, \"dry\\u005frun\": false}", -1, "\"dry_run\"");
        assert_body_refused("{\"name\":\"a\",\"hostdevs\":[],\"name\":\"b\"}", -1, "\"name\"");
}

static void test_body_not_json(void)
{
        assert_body_refused("{\"dry_run\": true /* comment */}", -1, "comments are not JSON");
        assert_body_refused("{\"dry_run\": true} // comment", -1, "comments are not JSON");
        assert_body_refused("{'dry_run': true}", -1, "single quotes");
        assert_body_refused("{\"driver\": 'vfio-pci'}", -1, "single quotes");
        assert_body_refused("\xef\xbb\xbf{\"dry_run\": true}", -1, "byte order mark");
        assert_body_refused("{\"dry_run\": true,}", -1, "trailing comma");
        assert_body_refused("{\"driver\": \"vfio\xff\"}", -1, "not UTF-8");
        assert_body_refused("{\"driver\": \"\xc0\xaf"
                            "etc\"}",
                            -1, "not UTF-8");
        assert_body_refused("{\"driver\": \"\\uD800\"}", -1, "surrogate");
        assert_body_refused("{\"driver\": \"vfio\\u0000x\"}", -1, "\\u0000");
        assert_body_refused("{\"memory_mib\": 01024}", -1, "leading zero");
        assert_body_refused("{\"memory_mib\": NaN}", -1, "NaN");
        assert_body_refused("{\"dry_run\": true}\0{}", 19, "end of the text");
}

/* Found by fuzz-agent-body: an address cut after 40 bytes inside a character made a message
 * that is not UTF-8. */
static void test_body_message_utf8(void)
{
        const char *body =
            "{\"name\": \"vm\", \"hostdevs\": [\"0000:01:00.0xxxxxxxxxxxxxxxxxxxxxxxxxxx"
            "\u00e9\u00e9\"]}";
        g_autoptr(GError) error = NULL;
        g_autoptr(JsonObject) o = hd_body_parse(body, strlen(body), &error);
        HdVmArgs v;
        gboolean ok;
        HdAddress a;

        g_assert_no_error(error);
        ok = hd_body_parse_vm(o, &v, &error);
        hd_vm_args_clear(&v);
        g_assert_false(ok);
        g_assert_error(error, HD_ERROR, HD_ERROR_INVALID_ARGUMENT);
        g_assert_true(g_utf8_validate(error->message, -1, NULL));
        g_clear_error(&error);
        g_assert_false(hd_address_parse("0000:01:00.0xxxxxxxxxxxxxxxxxxxxxxxxxxx\xc3\xa9\xc3\xa9",
                                        &a, &error));
        g_assert_true(g_utf8_validate(error->message, -1, NULL));
}

static void test_body_deep(void)
{
        g_autoptr(GString) s = g_string_new("{\"group\":");

        for (int i = 0; i < 40; i++)
                g_string_append_c(s, '[');
        for (int i = 0; i < 40; i++)
                g_string_append_c(s, ']');
        g_string_append_c(s, '}');
        assert_body_refused(s->str, -1, "nested too deep");
}

static void test_body_valid(void)
{
        const char *body = "{\"group\": true, \"dry_run\": true, \"force\": 2, \"driver\": "
                           "\"vfio-pci\"}";
        g_autoptr(GError) error = NULL;
        g_autoptr(JsonObject) o = hd_body_parse(body, strlen(body), &error);
        g_autoptr(JsonObject) empty = hd_body_parse("", 0, &error);
        HdBindArgs args;

        g_assert_no_error(error);
        g_assert_true(hd_body_parse_bind(o, "attach", &args, &error));
        g_assert_no_error(error);
        g_assert_true(args.group && args.dry_run);
        g_assert_cmpuint(args.force, ==, 2);
        g_assert_cmpstr(args.driver, ==, "vfio-pci");
        hd_bind_args_clear(&args);
        g_assert_nonnull(empty);
        g_assert_cmpuint(json_object_get_size(empty), ==, 0);
        assert_body_refused("[]", -1, "must be a JSON object");
        assert_body_refused("null", -1, "must be a JSON object");
}

int main(int argc, char **argv)
{
        g_test_init(&argc, &argv, NULL);
        for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
                g_autofree char *path = g_strdup_printf("/hostile/json/strict/%03zu", i);
                g_test_add_data_func(path, &cases[i], test_case);
        }
        g_test_add_func("/hostile/json/strict/nul", test_nul);
        g_test_add_func("/hostile/json/strict/depth", test_depth);
        g_test_add_func("/hostile/json/strict/duplicate-name", test_duplicate_name);
        g_test_add_func("/hostile/json/body/null-dry-run", test_body_null_dry_run);
        g_test_add_func("/hostile/json/body/null-vm-kernel-args",
                        test_body_null_vm_and_kernel_args);
        g_test_add_func("/hostile/json/body/duplicates", test_body_duplicates);
        g_test_add_func("/hostile/json/body/not-json", test_body_not_json);
        g_test_add_func("/hostile/json/body/deep", test_body_deep);
        g_test_add_func("/hostile/json/body/message-utf8", test_body_message_utf8);
        g_test_add_func("/hostile/json/body/valid", test_body_valid);
        return g_test_run();
}
