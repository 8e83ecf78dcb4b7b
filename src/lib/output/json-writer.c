/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <string.h>

#include "json-writer.h"
#include "utf8.h"

/* Containers nest at most this deep; deeper writes are a programming error. */
#define MAX_DEPTH 32
/* Hand text to the flush callback in chunks of about this size. */
#define CHUNK 65536

typedef struct {
        gboolean is_array;
        guint count; /* members or elements written so far */
} Level;

struct HdJsonWriter {
        JsonBuilder *builder; /* builder sink; NULL for a stream */
        HdJsonFlushFunc flush;
        gpointer user_data;
        gboolean failed;
        GString *buf;
        Level stack[MAX_DEPTH];
        int depth;               /* number of open containers */
        const char *pending_name; /* member name waiting for its value */
};

/* Append without g_string_append()'s generic insert path: the buffer is sized for a chunk
 * plus slack, so this is a memcpy nearly always. */
static inline void put(GString *buf, const char *s, gsize n)
{
        if (G_LIKELY(buf->len + n < buf->allocated_len)) {
                memcpy(buf->str + buf->len, s, n);
                buf->len += n;
                buf->str[buf->len] = '\0';
        } else {
                g_string_append_len(buf, s, (gssize)n);
        }
}

#define PUT_LITERAL(buf, lit) put((buf), "" lit, sizeof(lit) - 1)

static inline void put_c(GString *buf, char c)
{
        put(buf, &c, 1);
}

HdJsonWriter *hd_json_writer_new_stream(HdJsonFlushFunc flush, gpointer user_data)
{
        HdJsonWriter *w = g_new0(HdJsonWriter, 1);

        w->flush = flush;
        w->user_data = user_data;
        w->buf = g_string_sized_new(CHUNK + 4096);
        return w;
}

HdJsonWriter *hd_json_writer_new_builder(JsonBuilder *builder)
{
        HdJsonWriter *w = g_new0(HdJsonWriter, 1);

        w->builder = g_object_ref(builder);
        return w;
}

static void flush_buffer(HdJsonWriter *w)
{
        if (w->buf->len == 0)
                return;
        if (!w->failed && !w->flush(w->buf->str, w->buf->len, w->user_data))
                w->failed = TRUE;
        g_string_truncate(w->buf, 0);
}

gboolean hd_json_writer_finish(HdJsonWriter *w)
{
        if (w->builder)
                return TRUE;
        flush_buffer(w);
        return !w->failed;
}

void hd_json_writer_free(HdJsonWriter *w)
{
        if (!w)
                return;
        if (w->builder)
                g_object_unref(w->builder);
        if (w->buf)
                g_string_free(w->buf, TRUE);
        g_free(w);
}

/* Bytes that end a plain run: NUL (the end), what json-glib 1.6 escapes ('"', '\\',
 * 0x01..0x1e, 0x7f), 0x1f (which json-glib 1.6 leaves raw, making invalid JSON), and every
 * byte >= 0x80, checked to be well formed UTF-8. ASCII text passes through in runs. */
static const guint8 stops_run[256] = {
    [0x00] = 1, [0x01] = 1, [0x02] = 1, [0x03] = 1, [0x04] = 1, [0x05] = 1,
    [0x06] = 1, [0x07] = 1, [0x08] = 1, [0x09] = 1, [0x0a] = 1, [0x0b] = 1,
    [0x0c] = 1, [0x0d] = 1, [0x0e] = 1, [0x0f] = 1, [0x10] = 1, [0x11] = 1,
    [0x12] = 1, [0x13] = 1, [0x14] = 1, [0x15] = 1, [0x16] = 1, [0x17] = 1,
    [0x18] = 1, [0x19] = 1, [0x1a] = 1, [0x1b] = 1, [0x1c] = 1, [0x1d] = 1,
    [0x1e] = 1, [0x1f] = 1, ['"'] = 1,  ['\\'] = 1, [0x7f] = 1, [0x80 ... 0xff] = 1,
};

static gsize bounded_len(const unsigned char *p)
{
        gsize n = 0;

        while (n < 4 && p[n])
                n++;
        return n;
}

void hd_json_escape_append(GString *out, const char *s)
{
        static const char hex[] = "0123456789abcdef";
        const unsigned char *p = (const unsigned char *)s;

        for (;;) {
                const unsigned char *run = p;
                char u[6];
                const char *esc;
                gsize len = 2;

                while (!stops_run[*p])
                        p++;
                put(out, (const char *)run, (gsize)(p - run));
                if (*p >= 0x80) {
                        /* well formed UTF-8 as it is; any other byte becomes U+FFFD */
                        gsize k = hd_utf8_char_len(p, bounded_len(p));
                        if (k) {
                                put(out, (const char *)p, k);
                                p += k;
                        } else {
                                PUT_LITERAL(out, HD_UTF8_REPLACEMENT);
                                p++;
                        }
                        continue;
                }
                switch (*p) {
                case '\0':
                        return;
                case '"':
                        esc = "\\\"";
                        break;
                case '\\':
                        esc = "\\\\";
                        break;
                case '\b':
                        esc = "\\b";
                        break;
                case '\f':
                        esc = "\\f";
                        break;
                case '\n':
                        esc = "\\n";
                        break;
                case '\r':
                        esc = "\\r";
                        break;
                case '\t':
                        esc = "\\t";
                        break;
                default:
                        memcpy(u, "\\u00", 4);
                        u[4] = hex[*p >> 4];
                        u[5] = hex[*p & 0xf];
                        esc = u;
                        len = 6;
                        break;
                }
                put(out, esc, len);
                p++;
        }
}

char *hd_json_text_make_valid(const char *text)
{
        static const char hex[] = "0123456789abcdef";
        const unsigned char *p = (const unsigned char *)text;
        gsize n = strlen(text);
        GString *out = g_string_sized_new(n + 16);

        while (*p) {
                const unsigned char *run = p;
                gsize k;

                while (*p >= 0x20 && *p < 0x80)
                        p++;
                g_string_append_len(out, (const char *)run, (gssize)(p - run));
                if (!*p)
                        break;
                if (*p == '\n') {
                        /* a generator's own line breaks; inside strings it escapes them */
                        g_string_append_c(out, '\n');
                        p++;
                } else if (*p < 0x20) {
                        char u[7] = "\\u00";
                        u[4] = hex[*p >> 4];
                        u[5] = hex[*p & 0xf];
                        u[6] = '\0';
                        g_string_append(out, u);
                        p++;
                } else if ((k = hd_utf8_char_len(p,
                                                 n - (gsize)(p - (const unsigned char *)text)))) {
                        g_string_append_len(out, (const char *)p, (gssize)k);
                        p += k;
                } else {
                        g_string_append(out, HD_UTF8_REPLACEMENT);
                        p++;
                }
        }
        return g_string_free(out, FALSE);
}

char *hd_json_node_to_text(JsonNode *root, gboolean pretty)
{
        g_autoptr(JsonGenerator) gen = json_generator_new();
        g_autofree char *text = NULL;

        json_generator_set_pretty(gen, pretty);
        json_generator_set_indent(gen, 2);
        json_generator_set_root(gen, root);
        text = json_generator_to_data(gen, NULL);
        return hd_json_text_make_valid(text);
}

/* For the builder sink: @s itself when it is UTF-8, else a valid copy in *@tmp. */
static const char *valid_utf8(const char *s, char **tmp)
{
        if (!s || g_utf8_validate(s, -1, NULL))
                return s;
        *tmp = g_utf8_make_valid(s, -1);
        return *tmp;
}

static void indent(GString *buf, int level)
{
        static const char spaces[] = "                                                                ";
        gsize n = (gsize)level * 2;

        while (n > 0) {
                gsize k = MIN(n, sizeof(spaces) - 1);
                put(buf, spaces, k);
                n -= k;
        }
}

/* Everything that goes before a value (or a container's opening bracket) at the current
 * position: the separator from the previous sibling, the indentation, the member name. */
static void before_value(HdJsonWriter *w)
{
        Level *top;

        if (w->depth == 0)
                return;
        top = &w->stack[w->depth - 1];
        if (top->count)
                PUT_LITERAL(w->buf, ",\n");
        else
                PUT_LITERAL(w->buf, "\n");
        top->count++;
        indent(w->buf, w->depth);
        if (!top->is_array) {
                g_return_if_fail(w->pending_name != NULL);
                put_c(w->buf, '"');
                hd_json_escape_append(w->buf, w->pending_name);
                PUT_LITERAL(w->buf, "\" : ");
                w->pending_name = NULL;
        }
}

static void after_value(HdJsonWriter *w)
{
        if (w->buf->len >= CHUNK)
                flush_buffer(w);
}

static void begin(HdJsonWriter *w, gboolean is_array)
{
        g_return_if_fail(w->depth < MAX_DEPTH);
        before_value(w);
        put_c(w->buf, is_array ? '[' : '{');
        w->stack[w->depth].is_array = is_array;
        w->stack[w->depth].count = 0;
        w->depth++;
}

static void end(HdJsonWriter *w, gboolean is_array)
{
        Level *top;

        g_return_if_fail(w->depth > 0 && w->stack[w->depth - 1].is_array == is_array);
        top = &w->stack[w->depth - 1];
        w->depth--;
        if (top->count) {
                put_c(w->buf, '\n');
                indent(w->buf, w->depth);
        } else if (!is_array) {
                /* json-glib prints an empty object as "{", its own indentation, "}" */
                indent(w->buf, w->depth);
        }
        put_c(w->buf, is_array ? ']' : '}');
        after_value(w);
}

void hd_json_writer_begin_object(HdJsonWriter *w)
{
        if (w->builder)
                json_builder_begin_object(w->builder);
        else
                begin(w, FALSE);
}

void hd_json_writer_end_object(HdJsonWriter *w)
{
        if (w->builder)
                json_builder_end_object(w->builder);
        else
                end(w, FALSE);
}

void hd_json_writer_begin_array(HdJsonWriter *w)
{
        if (w->builder)
                json_builder_begin_array(w->builder);
        else
                begin(w, TRUE);
}

void hd_json_writer_end_array(HdJsonWriter *w)
{
        if (w->builder)
                json_builder_end_array(w->builder);
        else
                end(w, TRUE);
}

void hd_json_writer_member(HdJsonWriter *w, const char *name)
{
        if (w->builder) {
                g_autofree char *tmp = NULL;
                json_builder_set_member_name(w->builder, valid_utf8(name, &tmp));
        } else
                w->pending_name = name;
}

void hd_json_writer_null(HdJsonWriter *w)
{
        if (w->builder) {
                json_builder_add_null_value(w->builder);
                return;
        }
        before_value(w);
        PUT_LITERAL(w->buf, "null");
        after_value(w);
}

void hd_json_writer_string(HdJsonWriter *w, const char *value)
{
        if (!value) {
                hd_json_writer_null(w);
                return;
        }
        if (w->builder) {
                g_autofree char *tmp = NULL;
                json_builder_add_string_value(w->builder, valid_utf8(value, &tmp));
                return;
        }
        before_value(w);
        put_c(w->buf, '"');
        hd_json_escape_append(w->buf, value);
        put_c(w->buf, '"');
        after_value(w);
}

void hd_json_writer_bool(HdJsonWriter *w, gboolean value)
{
        if (w->builder) {
                json_builder_add_boolean_value(w->builder, value);
                return;
        }
        before_value(w);
        if (value)
                PUT_LITERAL(w->buf, "true");
        else
                PUT_LITERAL(w->buf, "false");
        after_value(w);
}

void hd_json_writer_int(HdJsonWriter *w, gint64 value)
{
        if (w->builder) {
                json_builder_add_int_value(w->builder, value);
                return;
        }
        before_value(w);
        {
                char digits[24];
                char *p = digits + sizeof(digits);
                guint64 v = value < 0 ? -(guint64)value : (guint64)value;

                do
                        *--p = (char)('0' + v % 10);
                while ((v /= 10) != 0);
                if (value < 0)
                        *--p = '-';
                put(w->buf, p, (gsize)(digits + sizeof(digits) - p));
        }
        after_value(w);
}
