/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The agent's inventory documents to HdInvItems in one pass (inventory-json.h: the rules).
 * A recursive descent over the bytes; values are validated, an element's text is copied
 * without the whitespace between tokens, and only the element's own members of interest are
 * decoded.
 */
#include "config.h"

#include <errno.h>
#include <gio/gio.h>
#include <stdlib.h>
#include <string.h>

#include "devices.h"
#include "inventory-json.h"

#define MAX_DEPTH 64

typedef struct {
        const char *start, *p, *end;
        GError **error;
        gboolean failed;
} Scan;

static gboolean fail(Scan *s, const char *what)
{
        if (!s->failed)
                g_set_error(s->error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                            "not an inventory document: %s at byte %td", what, s->p - s->start);
        s->failed = TRUE;
        return FALSE;
}

static void skip_ws(Scan *s)
{
        while (s->p < s->end && (*s->p == ' ' || *s->p == '\n' || *s->p == '\r' || *s->p == '\t'))
                s->p++;
}

static int hexval(char c)
{
        if (c >= '0' && c <= '9')
                return c - '0';
        if (c >= 'a' && c <= 'f')
                return c - 'a' + 10;
        if (c >= 'A' && c <= 'F')
                return c - 'A' + 10;
        return -1;
}

static gboolean hex4(Scan *s, const char *at, gunichar *out)
{
        gunichar v = 0;

        if (s->end - at < 4)
                return fail(s, "a short \\u escape");
        for (int i = 0; i < 4; i++) {
                int h = hexval(at[i]);
                if (h < 0)
                        return fail(s, "a bad \\u escape");
                v = v << 4 | (gunichar)h;
        }
        *out = v;
        return TRUE;
}

/* A string at s->p (the opening quote). Its raw text (quotes included) is appended to @raw,
 * its decoded value to @decoded; either may be NULL. */
static gboolean scan_string(Scan *s, GString *raw, GString *decoded)
{
        const char *begin = s->p;
        const char *run;

        s->p++; /* " */
        run = s->p;
        for (;;) {
                unsigned char c;

                if (s->p >= s->end)
                        return fail(s, "an unterminated string");
                c = (unsigned char)*s->p;
                if (c == '"')
                        break;
                if (c < 0x20)
                        return fail(s, "a control character in a string");
                if (c != '\\') {
                        s->p++;
                        continue;
                }
                /* an escape: flush the plain run before it */
                if (decoded)
                        g_string_append_len(decoded, run, s->p - run);
                if (s->end - s->p < 2)
                        return fail(s, "an unterminated escape");
                switch (s->p[1]) {
                case '"':
                case '\\':
                case '/':
                        if (decoded)
                                g_string_append_c(decoded, s->p[1]);
                        s->p += 2;
                        break;
                case 'b':
                case 'f':
                case 'n':
                case 'r':
                case 't':
                        if (decoded)
                                g_string_append_c(decoded, s->p[1] == 'b'   ? '\b'
                                                           : s->p[1] == 'f' ? '\f'
                                                           : s->p[1] == 'n' ? '\n'
                                                           : s->p[1] == 'r' ? '\r'
                                                                            : '\t');
                        s->p += 2;
                        break;
                case 'u': {
                        gunichar u;
                        if (!hex4(s, s->p + 2, &u))
                                return FALSE;
                        s->p += 6;
                        if (u == 0)
                                return fail(s, "\\u0000 in a string");
                        if (u >= 0xdc00 && u <= 0xdfff)
                                return fail(s, "an unpaired surrogate");
                        if (u >= 0xd800 && u <= 0xdbff) {
                                gunichar lo;
                                if (s->end - s->p < 6 || s->p[0] != '\\' || s->p[1] != 'u')
                                        return fail(s, "an unpaired surrogate");
                                if (!hex4(s, s->p + 2, &lo))
                                        return FALSE;
                                if (lo < 0xdc00 || lo > 0xdfff)
                                        return fail(s, "an unpaired surrogate");
                                s->p += 6;
                                u = 0x10000 + ((u - 0xd800) << 10) + (lo - 0xdc00);
                        }
                        if (decoded)
                                g_string_append_unichar(decoded, u);
                        break;
                }
                default:
                        return fail(s, "an unknown escape");
                }
                run = s->p;
        }
        if (!g_utf8_validate_len(begin + 1, (gsize)(s->p - begin - 1), NULL)) {
                s->p = begin;
                return fail(s, "a string that is not UTF-8");
        }
        if (decoded)
                g_string_append_len(decoded, run, s->p - run);
        s->p++; /* " */
        if (raw)
                g_string_append_len(raw, begin, s->p - begin);
        return TRUE;
}

/* A number; *is_int and *ival when it is an integer literal within gint64. */
static gboolean scan_number(Scan *s, GString *raw, gboolean *is_int, gint64 *ival)
{
        const char *begin = s->p;
        gboolean integer = TRUE;

        if (s->p < s->end && *s->p == '-')
                s->p++;
        if (s->p >= s->end || !g_ascii_isdigit(*s->p))
                return fail(s, "a bad number");
        if (*s->p == '0')
                s->p++;
        else
                while (s->p < s->end && g_ascii_isdigit(*s->p))
                        s->p++;
        if (s->p < s->end && *s->p == '.') {
                integer = FALSE;
                s->p++;
                if (s->p >= s->end || !g_ascii_isdigit(*s->p))
                        return fail(s, "a bad number");
                while (s->p < s->end && g_ascii_isdigit(*s->p))
                        s->p++;
        }
        if (s->p < s->end && (*s->p == 'e' || *s->p == 'E')) {
                integer = FALSE;
                s->p++;
                if (s->p < s->end && (*s->p == '+' || *s->p == '-'))
                        s->p++;
                if (s->p >= s->end || !g_ascii_isdigit(*s->p))
                        return fail(s, "a bad number");
                while (s->p < s->end && g_ascii_isdigit(*s->p))
                        s->p++;
        }
        if (raw)
                g_string_append_len(raw, begin, s->p - begin);
        if (is_int) {
                *is_int = FALSE;
                if (integer && s->p - begin < 32) {
                        char buf[32];
                        char *endp;
                        memcpy(buf, begin, (gsize)(s->p - begin));
                        buf[s->p - begin] = '\0';
                        errno = 0;
                        *ival = g_ascii_strtoll(buf, &endp, 10);
                        *is_int = errno == 0 && *endp == '\0';
                }
        }
        return TRUE;
}

static gboolean scan_literal(Scan *s, GString *raw, const char *word)
{
        gsize n = strlen(word);

        if ((gsize)(s->end - s->p) < n || memcmp(s->p, word, n) != 0)
                return fail(s, "an unexpected character");
        if (raw)
                g_string_append_len(raw, s->p, (gssize)n);
        s->p += n;
        return TRUE;
}

typedef enum { V_OTHER, V_STRING, V_INT, V_TRUE } ValueKind;

/* What an element's member of interest held. */
typedef struct {
        ValueKind kind;
        GString *str;
        gint64 ival;
} Value;

static gboolean scan_value(Scan *s, GString *raw, int depth, Value *v);

/* An object or array at s->p. */
static gboolean scan_container(Scan *s, GString *raw, int depth)
{
        gboolean object = *s->p == '{';
        char close = object ? '}' : ']';
        gboolean first = TRUE;

        if (depth >= MAX_DEPTH)
                return fail(s, "nesting deeper than 64");
        if (raw)
                g_string_append_c(raw, *s->p);
        s->p++;
        skip_ws(s);
        if (s->p < s->end && *s->p == close) {
                if (raw)
                        g_string_append_c(raw, close);
                s->p++;
                return TRUE;
        }
        for (;;) {
                if (!first) {
                        if (raw)
                                g_string_append_c(raw, ',');
                        s->p++; /* , */
                        skip_ws(s);
                }
                first = FALSE;
                if (object) {
                        if (s->p >= s->end || *s->p != '"')
                                return fail(s, "a member name expected");
                        if (!scan_string(s, raw, NULL))
                                return FALSE;
                        skip_ws(s);
                        if (s->p >= s->end || *s->p != ':')
                                return fail(s, "':' expected");
                        if (raw)
                                g_string_append_c(raw, ':');
                        s->p++;
                        skip_ws(s);
                }
                if (!scan_value(s, raw, depth + 1, NULL))
                        return FALSE;
                skip_ws(s);
                if (s->p < s->end && *s->p == close) {
                        if (raw)
                                g_string_append_c(raw, close);
                        s->p++;
                        return TRUE;
                }
                if (s->p >= s->end || *s->p != ',')
                        return fail(s, object ? "',' or '}' expected" : "',' or ']' expected");
        }
}

/* Any value at s->p (whitespace skipped before); @v, when given, gets strings and integers. */
static gboolean scan_value(Scan *s, GString *raw, int depth, Value *v)
{
        skip_ws(s);
        if (s->p >= s->end)
                return fail(s, "a value expected");
        switch (*s->p) {
        case '{':
        case '[':
                return scan_container(s, raw, depth);
        case '"':
                if (v) {
                        v->kind = V_STRING;
                        g_string_truncate(v->str, 0);
                }
                return scan_string(s, raw, v ? v->str : NULL);
        case 't':
                if (v)
                        v->kind = V_TRUE;
                return scan_literal(s, raw, "true");
        case 'f':
                return scan_literal(s, raw, "false");
        case 'n':
                return scan_literal(s, raw, "null");
        default: {
                gboolean is_int = FALSE;
                gint64 ival = 0;
                if (!scan_number(s, raw, v ? &is_int : NULL, &ival))
                        return FALSE;
                if (v && is_int) {
                        v->kind = V_INT;
                        v->ival = ival;
                }
                return TRUE;
        }
        }
}

/* One element of the array: an object, its text and its members of interest. */
static HdInvItem *scan_element(Scan *s, HdInvKind kind)
{
        /* 0..4 the columns, 5..9 the facets (devices.h) */
        static const char *const dev_names[] = {"address",    "vendor_id", "device_id", "driver",
                                                "iommu_group", "class",     "is_bridge", "vendor",
                                                "product",     "class_name"};
        static const char *const group_names[] = {"group"};
        const char *const *names = kind == HD_INV_DEVICES ? dev_names : group_names;
        guint n_names =
            kind == HD_INV_DEVICES ? G_N_ELEMENTS(dev_names) : G_N_ELEMENTS(group_names);
        Value vals[G_N_ELEMENTS(dev_names)];
        g_autoptr(GString) raw = g_string_sized_new(1024);
        g_autoptr(GString) name = g_string_sized_new(32);
        HdInvItem *it = NULL;
        gboolean first = TRUE;

        for (guint i = 0; i < n_names; i++) {
                vals[i].kind = V_OTHER;
                vals[i].str = g_string_new(NULL);
        }
        skip_ws(s);
        if (s->p >= s->end || *s->p != '{') {
                fail(s, "an array element that is not an object");
                goto out;
        }
        g_string_append_c(raw, '{');
        s->p++;
        skip_ws(s);
        if (s->p < s->end && *s->p == '}') {
                s->p++;
                g_string_append_c(raw, '}');
        } else {
                for (;;) {
                        Value scratch;
                        Value *v = NULL;

                        if (!first) {
                                g_string_append_c(raw, ',');
                                s->p++;
                                skip_ws(s);
                        }
                        first = FALSE;
                        if (s->p >= s->end || *s->p != '"') {
                                fail(s, "a member name expected");
                                goto out;
                        }
                        g_string_truncate(name, 0);
                        if (!scan_string(s, raw, name))
                                goto out;
                        skip_ws(s);
                        if (s->p >= s->end || *s->p != ':') {
                                fail(s, "':' expected");
                                goto out;
                        }
                        g_string_append_c(raw, ':');
                        s->p++;
                        for (guint i = 0; i < n_names; i++)
                                if (strcmp(name->str, names[i]) == 0)
                                        v = &vals[i];
                        if (v) {
                                /* the last occurrence counts */
                                scratch.kind = V_OTHER;
                                scratch.str = v->str;
                                if (!scan_value(s, raw, 2, &scratch))
                                        goto out;
                                v->kind = scratch.kind;
                                v->ival = scratch.ival;
                        } else if (!scan_value(s, raw, 2, NULL)) {
                                goto out;
                        }
                        skip_ws(s);
                        if (s->p < s->end && *s->p == '}') {
                                s->p++;
                                g_string_append_c(raw, '}');
                                break;
                        }
                        if (s->p >= s->end || *s->p != ',') {
                                fail(s, "',' or '}' expected");
                                goto out;
                        }
                }
        }
        it = g_new0(HdInvItem, 1);
        it->iommu_group = -1;
        if (kind == HD_INV_DEVICES) {
                it->key = vals[0].kind == V_STRING ? g_strdup(vals[0].str->str) : NULL;
                it->vendor_id = vals[1].kind == V_STRING ? g_strdup(vals[1].str->str) : NULL;
                it->device_id = vals[2].kind == V_STRING ? g_strdup(vals[2].str->str) : NULL;
                it->driver = vals[3].kind == V_STRING ? g_strdup(vals[3].str->str) : NULL;
                if (vals[4].kind == V_INT)
                        it->iommu_group = vals[4].ival;
#define STR(i) (vals[i].kind == V_STRING ? vals[i].str->str : NULL)
                it->category =
                    g_strdup(hd_device_category_of(STR(5), vals[6].kind == V_TRUE));
                it->search = hd_device_search_text_of(STR(0), STR(7), STR(8), STR(9), STR(3),
                                                      STR(1), STR(2));
#undef STR
        } else if (vals[0].kind == V_INT) {
                it->key = g_strdup_printf("%" G_GINT64_FORMAT, vals[0].ival);
        }
        it->data = g_strndup(raw->str, raw->len);
        if (!it->key) {
                fail(s, kind == HD_INV_DEVICES ? "a device without an \"address\" string"
                                               : "a group without an integer \"group\"");
                g_clear_pointer(&it, hd_inv_item_free);
        }
out:
        for (guint i = 0; i < n_names; i++)
                g_string_free(vals[i].str, TRUE);
        return it;
}

static GPtrArray *scan_items(Scan *s, HdInvKind kind)
{
        g_autoptr(GPtrArray) items =
            g_ptr_array_new_with_free_func((GDestroyNotify)hd_inv_item_free);

        skip_ws(s);
        if (s->p >= s->end || *s->p != '[') {
                fail(s, kind == HD_INV_DEVICES ? "\"devices\" is not an array"
                                               : "\"groups\" is not an array");
                return NULL;
        }
        s->p++;
        skip_ws(s);
        if (s->p < s->end && *s->p == ']') {
                s->p++;
                return g_steal_pointer(&items);
        }
        for (;;) {
                HdInvItem *it = scan_element(s, kind);
                if (!it)
                        return NULL;
                g_ptr_array_add(items, it);
                skip_ws(s);
                if (s->p < s->end && *s->p == ']') {
                        s->p++;
                        return g_steal_pointer(&items);
                }
                if (s->p >= s->end || *s->p != ',') {
                        fail(s, "',' or ']' expected");
                        return NULL;
                }
                s->p++;
        }
}

GPtrArray *hd_inventory_json_parse(const char *data, gsize len, HdInvKind kind, GError **error)
{
        const char *member = kind == HD_INV_DEVICES ? "devices" : "groups";
        Scan s = {data, data, data + len, error, FALSE};
        g_autoptr(GPtrArray) items = NULL;
        g_autoptr(GString) name = g_string_sized_new(32);
        gboolean first = TRUE;

        skip_ws(&s);
        if (s.p >= s.end || *s.p != '{') {
                fail(&s, "the document is not an object");
                return NULL;
        }
        s.p++;
        skip_ws(&s);
        if (s.p < s.end && *s.p == '}') {
                s.p++;
        } else {
                for (;;) {
                        if (!first) {
                                s.p++; /* , */
                                skip_ws(&s);
                        }
                        first = FALSE;
                        if (s.p >= s.end || *s.p != '"') {
                                fail(&s, "a member name expected");
                                return NULL;
                        }
                        g_string_truncate(name, 0);
                        if (!scan_string(&s, NULL, name))
                                return NULL;
                        skip_ws(&s);
                        if (s.p >= s.end || *s.p != ':') {
                                fail(&s, "':' expected");
                                return NULL;
                        }
                        s.p++;
                        if (strcmp(name->str, member) == 0) {
                                g_clear_pointer(&items, g_ptr_array_unref);
                                items = scan_items(&s, kind);
                                if (!items)
                                        return NULL;
                        } else if (!scan_value(&s, NULL, 1, NULL)) {
                                return NULL;
                        }
                        skip_ws(&s);
                        if (s.p < s.end && *s.p == '}') {
                                s.p++;
                                break;
                        }
                        if (s.p >= s.end || *s.p != ',') {
                                fail(&s, "',' or '}' expected");
                                return NULL;
                        }
                }
        }
        skip_ws(&s);
        if (s.p != s.end) {
                fail(&s, "bytes after the document");
                return NULL;
        }
        if (!items) {
                g_autofree char *m = g_strdup_printf("no \"%s\" member", member);
                fail(&s, m);
                return NULL;
        }
        return g_steal_pointer(&items);
}
