/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <string.h>

#include "json-strict.h"
#include "utf8.h"

/* clang-format off */
G_DEFINE_QUARK(hd-json-strict-error-quark, hd_json_strict_error)
/* clang-format on */

typedef struct {
        gboolean is_object;
        GHashTable *names; /* objects: GBytes of each decoded member name */
} Level;

typedef struct {
        const guint8 *s;
        gsize len;
        gsize pos;
        HdJsonStrictFlags flags;
        GError **error;
} Parser;

static gboolean fail(Parser *p, HdJsonStrictError code, gsize at, const char *reason)
{
        g_set_error(p->error, HD_JSON_STRICT_ERROR, (int)code, "at byte %" G_GSIZE_FORMAT ": %s",
                    at, reason);
        return FALSE;
}

static int peek(const Parser *p)
{
        return p->pos < p->len ? p->s[p->pos] : -1;
}

static void skip_ws(Parser *p)
{
        while (p->pos < p->len) {
                guint8 c = p->s[p->pos];
                if (c != ' ' && c != '\t' && c != '\n' && c != '\r')
                        return;
                p->pos++;
        }
}

/* What is wrong with byte @c where a value was expected: the usual non-JSON habits by name. */
static gboolean fail_unexpected(Parser *p, const char *expected)
{
        int c = peek(p);
        g_autofree char *reason = NULL;

        if (c < 0)
                reason = g_strdup_printf("the text ends where %s was expected", expected);
        else if (c == '\'')
                reason = g_strdup("single quotes are not JSON; strings use double quotes");
        else if (c == '/')
                reason = g_strdup("comments are not JSON");
        else if (c == 0xEF && p->pos + 2 < p->len && p->s[p->pos + 1] == 0xBB &&
                 p->s[p->pos + 2] == 0xBF)
                reason = g_strdup("a byte order mark is not allowed");
        else if (c == 'N' || c == 'I' || c == '+')
                reason = g_strdup("NaN, Infinity and '+' are not JSON numbers");
        else if (c == ',' || c == '}' || c == ']')
                reason = g_strdup_printf("'%c' where %s was expected (a trailing or extra "
                                         "comma?)",
                                         c, expected);
        else if (c >= 0x21 && c < 0x7f)
                reason = g_strdup_printf("'%c' where %s was expected", c, expected);
        else
                reason = g_strdup_printf("byte 0x%02x where %s was expected", (guint)c, expected);
        return fail(p, HD_JSON_STRICT_ERROR_SYNTAX, p->pos, reason);
}

static int hex4(const guint8 *s)
{
        int v = 0;

        for (int i = 0; i < 4; i++) {
                int d = g_ascii_xdigit_value((char)s[i]);
                if (d < 0)
                        return -1;
                v = v * 16 + d;
        }
        return v;
}

static void append_code_point(GByteArray *out, gunichar cp)
{
        char buf[6];
        int n = g_unichar_to_utf8(cp, buf);

        g_byte_array_append(out, (const guint8 *)buf, (guint)n);
}

/* A string at p->pos (the opening quote); @decoded (may be NULL) receives its value. */
static gboolean parse_string(Parser *p, GByteArray *decoded)
{
        p->pos++; /* '"' */
        for (;;) {
                gsize start = p->pos, n;
                guint8 c;

                if (p->pos >= p->len)
                        return fail(p, HD_JSON_STRICT_ERROR_SYNTAX, p->pos,
                                    "the text ends inside a string");
                c = p->s[p->pos];
                if (c == '"') {
                        p->pos++;
                        return TRUE;
                }
                if (c < 0x20)
                        return fail(p, HD_JSON_STRICT_ERROR_ENCODING, p->pos,
                                    "a control character in a string must be escaped");
                if (c != '\\') {
                        n = hd_utf8_char_len(p->s + p->pos, p->len - p->pos);
                        if (n == 0)
                                return fail(p, HD_JSON_STRICT_ERROR_ENCODING, p->pos,
                                            "bytes that are not UTF-8 in a string");
                        if (decoded)
                                g_byte_array_append(decoded, p->s + p->pos, (guint)n);
                        p->pos += n;
                        continue;
                }
                if (p->pos + 1 >= p->len)
                        return fail(p, HD_JSON_STRICT_ERROR_SYNTAX, p->pos,
                                    "the text ends inside a string");
                c = p->s[p->pos + 1];
                if (c == 'u') {
                        int cp, lo;
                        if (p->len - p->pos < 6 || (cp = hex4(p->s + p->pos + 2)) < 0)
                                return fail(p, HD_JSON_STRICT_ERROR_SYNTAX, start,
                                            "\\u must be followed by four hex digits");
                        p->pos += 6;
                        if (cp >= 0xDC00 && cp <= 0xDFFF)
                                return fail(p, HD_JSON_STRICT_ERROR_ENCODING, start,
                                            "a lone low surrogate escape");
                        if (cp >= 0xD800 && cp <= 0xDBFF) {
                                if (p->len - p->pos < 6 || p->s[p->pos] != '\\' ||
                                    p->s[p->pos + 1] != 'u' ||
                                    (lo = hex4(p->s + p->pos + 2)) < 0xDC00 || lo > 0xDFFF)
                                        return fail(p, HD_JSON_STRICT_ERROR_ENCODING, start,
                                                    "a high surrogate escape without its low "
                                                    "surrogate");
                                p->pos += 6;
                                cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                        }
                        if (cp == 0 && (p->flags & HD_JSON_STRICT_NO_NUL))
                                return fail(p, HD_JSON_STRICT_ERROR_ENCODING, start,
                                            "\\u0000 is not allowed here");
                        if (decoded)
                                append_code_point(decoded, (gunichar)cp);
                        continue;
                }
                switch (c) {
                case '"':
                case '\\':
                case '/':
                        break;
                case 'b':
                        c = '\b';
                        break;
                case 'f':
                        c = '\f';
                        break;
                case 'n':
                        c = '\n';
                        break;
                case 'r':
                        c = '\r';
                        break;
                case 't':
                        c = '\t';
                        break;
                default:
                        return fail(p, HD_JSON_STRICT_ERROR_SYNTAX, start,
                                    "an unknown escape in a string");
                }
                if (decoded)
                        g_byte_array_append(decoded, &c, 1);
                p->pos += 2;
        }
}

static gboolean digits(Parser *p)
{
        gsize start = p->pos;

        while (p->pos < p->len && g_ascii_isdigit(p->s[p->pos]))
                p->pos++;
        return p->pos > start;
}

/* -? (0 | [1-9][0-9]*) (.[0-9]+)? ([eE][+-]?[0-9]+)? */
static gboolean parse_number(Parser *p)
{
        gsize start = p->pos;

        if (peek(p) == '-')
                p->pos++;
        if (peek(p) == '0') {
                p->pos++;
                if (g_ascii_isdigit(peek(p)))
                        return fail(p, HD_JSON_STRICT_ERROR_SYNTAX, start,
                                    "a number with a leading zero");
        } else if (!digits(p)) {
                if (peek(p) == 'I')
                        return fail(p, HD_JSON_STRICT_ERROR_SYNTAX, start,
                                    "NaN, Infinity and '+' are not JSON numbers");
                return fail(p, HD_JSON_STRICT_ERROR_SYNTAX, start, "a malformed number");
        }
        if (peek(p) == '.') {
                p->pos++;
                if (!digits(p))
                        return fail(p, HD_JSON_STRICT_ERROR_SYNTAX, start,
                                    "a number needs digits after '.'");
        }
        if (peek(p) == 'e' || peek(p) == 'E') {
                p->pos++;
                if (peek(p) == '+' || peek(p) == '-')
                        p->pos++;
                if (!digits(p))
                        return fail(p, HD_JSON_STRICT_ERROR_SYNTAX, start,
                                    "a number needs digits in its exponent");
        }
        return TRUE;
}

static gboolean parse_literal(Parser *p, const char *word)
{
        gsize n = strlen(word);

        if (p->len - p->pos < n || memcmp(p->s + p->pos, word, n) != 0)
                return fail_unexpected(p, "a value");
        p->pos += n;
        return TRUE;
}

/* A member name at p->pos, checked against the names already in the object @level. */
static gboolean parse_name(Parser *p, Level *level, char **duplicate)
{
        g_autoptr(GByteArray) name = g_byte_array_new();
        gsize start = p->pos;
        GBytes *key;

        if (peek(p) != '"')
                return fail_unexpected(p, "a member name in double quotes");
        if (!parse_string(p, name))
                return FALSE;
        key = g_byte_array_free_to_bytes(g_steal_pointer(&name));
        if (!g_hash_table_add(level->names, key)) {
                gsize n;
                const char *data = g_bytes_get_data(key, &n);
                if (!data) /* the empty name: GBytes hold no data */
                        data = "";
                g_autofree char *shown = g_utf8_make_valid(data, (gssize)MIN(n, 64));
                g_set_error(p->error, HD_JSON_STRICT_ERROR, HD_JSON_STRICT_ERROR_DUPLICATE,
                            "duplicate member \"%s\" at byte %" G_GSIZE_FORMAT, shown, start);
                if (duplicate)
                        *duplicate = g_strndup(data, n);
                return FALSE;
        }
        skip_ws(p);
        if (peek(p) != ':')
                return fail_unexpected(p, "':' after a member name");
        p->pos++;
        return TRUE;
}

static void clear_level(gpointer data)
{
        Level *l = data;

        g_clear_pointer(&l->names, g_hash_table_unref);
}

gboolean hd_json_strict_validate(const char *data, gsize len, guint max_depth,
                                 HdJsonStrictFlags flags, char **duplicate, GError **error)
{
        Parser p = {.s = (const guint8 *)data, .len = len, .flags = flags, .error = error};
        g_autoptr(GArray) stack = g_array_new(FALSE, TRUE, sizeof(Level));

        g_return_val_if_fail(data != NULL || len == 0, FALSE);
        if (duplicate)
                *duplicate = NULL;
        max_depth = CLAMP(max_depth, 1, HD_JSON_STRICT_DEPTH_MAX);
        g_array_set_clear_func(stack, clear_level);
        skip_ws(&p);

value:
        skip_ws(&p);
        switch (peek(&p)) {
        case '{':
        case '[': {
                Level level = {.is_object = peek(&p) == '{'};
                if (stack->len >= max_depth)
                        return fail(&p, HD_JSON_STRICT_ERROR_DEPTH, p.pos,
                                    "containers are nested too deep");
                if (level.is_object)
                        level.names = g_hash_table_new_full(g_bytes_hash, g_bytes_equal,
                                                            (GDestroyNotify)g_bytes_unref, NULL);
                g_array_append_val(stack, level);
                p.pos++;
                skip_ws(&p);
                if (peek(&p) == (level.is_object ? '}' : ']')) {
                        p.pos++;
                        g_array_set_size(stack, stack->len - 1);
                        goto after;
                }
                if (level.is_object) {
                        if (!parse_name(&p, &g_array_index(stack, Level, stack->len - 1),
                                        duplicate))
                                return FALSE;
                }
                goto value;
        }
        case '"':
                if (!parse_string(&p, NULL))
                        return FALSE;
                break;
        case 't':
                if (!parse_literal(&p, "true"))
                        return FALSE;
                break;
        case 'f':
                if (!parse_literal(&p, "false"))
                        return FALSE;
                break;
        case 'n':
                if (!parse_literal(&p, "null"))
                        return FALSE;
                break;
        default:
                if (peek(&p) == '-' || g_ascii_isdigit(peek(&p))) {
                        if (!parse_number(&p))
                                return FALSE;
                        break;
                }
                return fail_unexpected(&p, "a value");
        }

after:
        skip_ws(&p);
        if (stack->len == 0) {
                if (p.pos != p.len)
                        return fail_unexpected(&p, "the end of the text");
                return TRUE;
        }
        {
                Level *top = &g_array_index(stack, Level, stack->len - 1);
                char close = top->is_object ? '}' : ']';
                if (peek(&p) == close) {
                        p.pos++;
                        g_array_set_size(stack, stack->len - 1);
                        goto after;
                }
                if (peek(&p) != ',')
                        return fail_unexpected(&p, top->is_object ? "',' or '}'" : "',' or ']'");
                p.pos++;
                skip_ws(&p);
                if (peek(&p) == close)
                        return fail(&p, HD_JSON_STRICT_ERROR_SYNTAX, p.pos,
                                    "a trailing comma is not JSON");
                if (top->is_object && !parse_name(&p, top, duplicate))
                        return FALSE;
                goto value;
        }
}
