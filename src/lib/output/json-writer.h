/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A JSON writer with two sinks behind one API:
 *
 * - a stream: text is produced as values are added, byte for byte what
 *   hd_json_node_to_text() (json-glib 1.6's JsonGenerator, then made valid) prints for the same
 *   tree with pretty=TRUE (member layout `"name" : value`, `[]` for an empty array, json-glib's
 *   string escaping), and handed to a flush callback in chunks. No tree is built, so listing
 * thousands of devices costs no node allocations and the memory stays flat whatever the device
 * count.
 * - a JsonBuilder: every call is forwarded, for callers that want a JsonNode (show, the agent).
 *
 * The JSON objects (json-export.c) are written once, against this API, so both sinks always
 * carry the same fields in the same order.
 *
 * Valid UTF-8, always: strings come from sysfs, file names and request paths, which are bytes.
 * Whatever a caller hands in, the text out is RFC 8259 JSON in UTF-8: each byte that is not
 * part of well formed UTF-8 becomes U+FFFD (as g_utf8_make_valid() does), and every control
 * character is escaped (json-glib 1.6 leaves 0x1f raw). The builder sink stores valid strings;
 * text from any JsonNode must come out through hd_json_node_to_text(), never a bare
 * JsonGenerator, which prints the bytes it is given.
 */
#pragma once

#include <json-glib/json-glib.h>

typedef struct HdJsonWriter HdJsonWriter;

/* Called with the next chunk of text; returns FALSE on a write error (the writer then drops
 * the rest and hd_json_writer_finish() reports FALSE). */
typedef gboolean (*HdJsonFlushFunc)(const char *data, gsize len, gpointer user_data);

HdJsonWriter *hd_json_writer_new_stream(HdJsonFlushFunc flush, gpointer user_data);
HdJsonWriter *hd_json_writer_new_builder(JsonBuilder *builder);

void hd_json_writer_begin_object(HdJsonWriter *w);
void hd_json_writer_end_object(HdJsonWriter *w);
void hd_json_writer_begin_array(HdJsonWriter *w);
void hd_json_writer_end_array(HdJsonWriter *w);
/* The name of the next member of the current object. */
void hd_json_writer_member(HdJsonWriter *w, const char *name);
void hd_json_writer_string(HdJsonWriter *w, const char *value); /* NULL writes null */
void hd_json_writer_null(HdJsonWriter *w);
void hd_json_writer_bool(HdJsonWriter *w, gboolean value);
void hd_json_writer_int(HdJsonWriter *w, gint64 value);

/* Stream sink: flush what is left (no trailing newline); FALSE if any flush failed. */
gboolean hd_json_writer_finish(HdJsonWriter *w);
void hd_json_writer_free(HdJsonWriter *w);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(HdJsonWriter, hd_json_writer_free)

/* Append @s to @out escaped as json-glib escapes strings (without the quotes), plus 0x1f, with
 * bytes that are not UTF-8 replaced by U+FFFD. */
void hd_json_escape_append(GString *out, const char *s);

/* JSON text of @root (pretty: json-glib's layout, indent 2), valid UTF-8 whatever the tree
 * holds. The one way a JsonNode becomes text in the library, the CLI and the agent. */
char *hd_json_node_to_text(JsonNode *root, gboolean pretty);
/* @text, a generator's output, with bytes that are not UTF-8 replaced by U+FFFD and raw
 * control characters other than its own line breaks escaped (they can only be inside
 * strings). */
char *hd_json_text_make_valid(const char *text);
