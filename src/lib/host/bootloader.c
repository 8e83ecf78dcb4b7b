/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <string.h>
#include <unistd.h>

#include <gio/gio.h>

#include "bootloader.h"
#include "fileio.h"
#include "hd-error.h"
#include "kernel-words.h"
#include "machine.h"
#include "macros.h"

/* Bootloader configs are small; a larger file is not one we should rewrite. */
#define CONFIG_MAX (1024 * 1024)

#define BACKUP_SUFFIX HD_BOOTLOADER_BACKUP_SUFFIX

/* The update command's output kept for the report: its last lines, at most this many bytes. */
#define OUTPUT_TAIL_MAX 2048
#define OUTPUT_TAIL_LINES 10

/* Context lines around a change in a diff, as diff -u. */
#define DIFF_CONTEXT 3

/* One command line value inside a file: bytes [start, end) of the file hold its encoded
 * form. A value that does not exist yet is inserted at start == end with prefix and suffix
 * around it (a missing GRUB_CMDLINE_LINUX line, a missing etc/kernel/cmdline). */
typedef struct {
        gsize start, end;
        char quote;           /* '"', '\'' or 0 for a bare word (GRUB); 0 for raw values */
        gboolean simple;      /* the encoded bytes are quote + decoded + quote exactly */
        gboolean shell;       /* a shell word (GRUB) rather than raw text (BLS, kernel/cmdline) */
        char *decoded;        /* the command line text */
        gboolean accepts_add; /* new words go here (GRUB_CMDLINE_LINUX, not _DEFAULT) */
        gboolean insert;      /* not in the file yet */
        const char *prefix, *suffix; /* around an inserted value */
        char *edited;                /* after hd_bootloader_apply() computed the edit */
} Value;

typedef struct {
        char *path;    /* below the root */
        char *content; /* as read; "" when the file does not exist */
        gboolean exists;
        GPtrArray *values;   /* Value*, in file order */
        gboolean is_default; /* grubby: the entry that boots next */
} ConfigFile;

struct HdBootloader {
        HdBootloaderKind kind;
        GPtrArray *files;   /* ConfigFile* */
        GPtrArray *cmdline; /* char*, configured words */
        char **command;     /* update command; NULL for UNKNOWN */
        char *config_path;
        GPtrArray *warnings; /* char*: what may make the configured line differ */
        GPtrArray *changes;  /* HdBootloaderChange*, of the last apply; NULL before */
        HdBootloaderUpdate *update; /* of the last apply; NULL when not reached */
};

static void update_free(HdBootloaderUpdate *u)
{
        if (!u)
                return;
        g_strfreev(u->argv);
        g_free(u->output_tail);
        g_free(u);
}

void hd_bootloader_change_free(HdBootloaderChange *change)
{
        if (!change)
                return;
        g_free(change->path);
        g_free(change->diff);
        g_free(change->backup);
        g_free(change->first_backup);
        g_free(change);
}

const char *hd_bootloader_kind_to_string(HdBootloaderKind kind)
{
        switch (kind) {
        case HD_BOOTLOADER_GRUB:
                return "grub";
        case HD_BOOTLOADER_GRUBBY:
                return "grubby";
        case HD_BOOTLOADER_SYSTEMD_BOOT:
                return "systemd-boot";
        case HD_BOOTLOADER_PROXMOX:
                return "proxmox";
        case HD_BOOTLOADER_UNKNOWN:
                break;
        }
        return "unknown";
}

HdArgEdit *hd_arg_edit_new(HdArgEditOp op, const char *old_arg, const char *new_arg)
{
        HdArgEdit *e = g_new0(HdArgEdit, 1);

        e->op = op;
        e->old_arg = g_strdup(old_arg);
        e->new_arg = g_strdup(new_arg);
        return e;
}

void hd_arg_edit_free(HdArgEdit *edit)
{
        if (!edit)
                return;
        g_free(edit->old_arg);
        g_free(edit->new_arg);
        g_free(edit);
}

static void value_free(gpointer p)
{
        Value *v = p;

        if (!v)
                return;
        g_free(v->decoded);
        g_free(v->edited);
        g_free(v);
}

static void config_file_free(gpointer p)
{
        ConfigFile *f = p;

        g_free(f->path);
        g_free(f->content);
        g_ptr_array_unref(f->values);
        g_free(f);
}

void hd_bootloader_free(HdBootloader *bl)
{
        if (!bl)
                return;
        g_ptr_array_unref(bl->files);
        g_ptr_array_unref(bl->cmdline);
        g_strfreev(bl->command);
        g_free(bl->config_path);
        if (bl->warnings)
                g_ptr_array_unref(bl->warnings);
        if (bl->changes)
                g_ptr_array_unref(bl->changes);
        update_free(bl->update);
        g_free(bl);
}

const GPtrArray *hd_bootloader_get_changes(const HdBootloader *bl)
{
        return bl->changes;
}

const HdBootloaderUpdate *hd_bootloader_get_update(const HdBootloader *bl)
{
        return bl->update;
}

HdBootloaderKind hd_bootloader_get_kind(const HdBootloader *bl)
{
        return bl->kind;
}

const char *hd_bootloader_get_config_path(const HdBootloader *bl)
{
        return bl->config_path;
}

const GPtrArray *hd_bootloader_get_cmdline(const HdBootloader *bl)
{
        return bl->cmdline;
}

const GPtrArray *hd_bootloader_get_warnings(const HdBootloader *bl)
{
        return bl->warnings;
}

/* grub-mkconfig sources etc/default/grub.d/NAME.cfg after etc/default/grub (Ubuntu cloud
 * images set GRUB_CMDLINE_LINUX_DEFAULT there): hostdev does not edit those, so say so. */
static void warn_grub_d(HdBootloader *bl, HdCtx *ctx)
{
        g_autoptr(GPtrArray) names =
            hd_list_dir_at(hd_ctx_get_root_fd(ctx), "etc/default/grub.d", NULL);

        for (guint i = 0; names && i < names->len; i++) {
                const char *name = names->pdata[i];
                g_autofree char *path = NULL;
                g_autofree char *text = NULL;

                if (!g_str_has_suffix(name, ".cfg"))
                        continue;
                path = g_strdup_printf("etc/default/grub.d/%s", name);
                text = hd_read_file_at(hd_ctx_get_root_fd(ctx), path, CONFIG_MAX, NULL);
                if (text && strstr(text, "GRUB_CMDLINE_LINUX"))
                        g_ptr_array_add(bl->warnings,
                                        g_strdup_printf("/%s also sets GRUB_CMDLINE_LINUX*, "
                                                        "after /etc/default/grub; hostdev does "
                                                        "not edit it, check it by hand",
                                                        path));
        }
}

/* ---- editing a command line string, keeping every byte that is not touched ---- */

static int find_word(const char *s, const GArray *spans, const char *arg)
{
        for (guint i = 0; i < spans->len; i += 2) {
                gsize a = g_array_index(spans, gsize, i), b = g_array_index(spans, gsize, i + 1);
                g_autofree char *w = g_strndup(s + a, b - a);
                if (hd_cmdline_arg_equal(w, arg))
                        return (int)(i / 2);
        }
        return -1;
}

#define SPAN_START(spans, i) g_array_index((spans), gsize, 2 * (i))
#define SPAN_END(spans, i) g_array_index((spans), gsize, 2 * (i) + 1)

/* Remove word @i with the whitespace after it, or, for the last word, the whitespace before
 * it: the exact inverse of appending " word". */
static void erase_word(GString *s, const GArray *spans, guint i)
{
        guint n = spans->len / 2;

        if (i + 1 < n)
                g_string_erase(s, SPAN_START(spans, i),
                               SPAN_START(spans, i + 1) - SPAN_START(spans, i));
        else if (i > 0)
                g_string_erase(s, SPAN_END(spans, i - 1),
                               SPAN_END(spans, i) - SPAN_END(spans, i - 1));
        else
                g_string_erase(s, SPAN_START(spans, i), SPAN_END(spans, i) - SPAN_START(spans, i));
}

static char *edit_string(const char *value, const GPtrArray *edits, gboolean accepts_add)
{
        GString *s = g_string_new(value);

        for (guint e = 0; e < edits->len; e++) {
                const HdArgEdit *edit = edits->pdata[e];
                g_autoptr(GArray) spans = hd_cmdline_split_spans(s->str, NULL);
                int i;

                if (!spans)
                        break; /* cannot happen: the value was parsed when it was read */
                switch (edit->op) {
                case HD_ARG_EDIT_ADD:
                        if (!accepts_add || find_word(s->str, spans, edit->new_arg) >= 0)
                                break;
                        if (spans->len == 0 && s->len == 0)
                                g_string_append(s, edit->new_arg);
                        else if (spans->len == 0)
                                g_string_insert(s, 0, edit->new_arg);
                        else {
                                gsize at = SPAN_END(spans, spans->len / 2 - 1);
                                g_string_insert(s, at, edit->new_arg);
                                g_string_insert_c(s, at, ' ');
                        }
                        break;
                case HD_ARG_EDIT_REMOVE:
                        i = find_word(s->str, spans, edit->old_arg);
                        if (i >= 0)
                                erase_word(s, spans, (guint)i);
                        break;
                case HD_ARG_EDIT_REPLACE:
                        i = find_word(s->str, spans, edit->old_arg);
                        if (i < 0)
                                break;
                        if (find_word(s->str, spans, edit->new_arg) >= 0) {
                                erase_word(s, spans, (guint)i);
                                break;
                        }
                        g_string_erase(s, SPAN_START(spans, i),
                                       SPAN_END(spans, i) - SPAN_START(spans, i));
                        g_string_insert(s, SPAN_START(spans, i), edit->new_arg);
                        break;
                }
        }
        return g_string_free(s, FALSE);
}

void hd_arg_edits_apply_words(GPtrArray *words, const GPtrArray *edits)
{
        for (guint e = 0; e < edits->len; e++) {
                const HdArgEdit *edit = edits->pdata[e];
                int found = -1, found_new = -1;

                for (guint i = 0; i < words->len; i++) {
                        if (found < 0 && edit->old_arg &&
                            hd_cmdline_arg_equal(words->pdata[i], edit->old_arg))
                                found = (int)i;
                        if (found_new < 0 && edit->new_arg &&
                            hd_cmdline_arg_equal(words->pdata[i], edit->new_arg))
                                found_new = (int)i;
                }
                switch (edit->op) {
                case HD_ARG_EDIT_ADD:
                        if (found_new < 0)
                                g_ptr_array_add(words, g_strdup(edit->new_arg));
                        break;
                case HD_ARG_EDIT_REMOVE:
                        if (found >= 0)
                                g_ptr_array_remove_index(words, (guint)found);
                        break;
                case HD_ARG_EDIT_REPLACE:
                        if (found < 0)
                                break;
                        if (found_new >= 0) {
                                g_ptr_array_remove_index(words, (guint)found);
                                break;
                        }
                        g_free(words->pdata[found]);
                        words->pdata[found] = g_strdup(edit->new_arg);
                        break;
                }
        }
}

/* ---- GRUB: shell assignments in etc/default/grub ---- */

static guint line_of(const char *text, gsize pos)
{
        guint line = 1;

        for (gsize i = 0; i < pos && text[i]; i++)
                if (text[i] == '\n')
                        line++;
        return line;
}

static gboolean unparseable(GError **error, const char *path, const char *text, gsize pos,
                            const char *why)
{
        g_set_error(error, HD_ERROR, HD_ERROR_FAILED,
                    "cannot parse /%s line %u: %s; the file was left untouched (edit it by hand "
                    "or simplify that line)",
                    path, line_of(text, pos), why);
        return FALSE;
}

static gboolean is_bare_char(char c)
{
        return g_ascii_isalnum(c) || strchr("._-=,:/+@%^", c);
}

/* Parse the shell word that starts at @pos: double quotes (with \ escapes), single quotes,
 * bare characters, concatenated. Anything the shell would expand is refused: hostdev cannot
 * know what it becomes. */
static Value *parse_shell_value(const char *path, const char *text, gsize pos, GError **error)
{
        g_autoptr(GString) out = g_string_new(NULL);
        Value *v;
        gsize i = pos;
        guint segments = 0;
        char first_quote = 0;
        gboolean escapes = FALSE, prev_bare = FALSE;

        for (;;) {
                char c = text[i];

                if (c == '\0' || c == ' ' || c == '\t' || c == '\n' || c == ';')
                        break;
                if (c == '"') {
                        if (segments++ == 0)
                                first_quote = '"';
                        prev_bare = FALSE;
                        for (i++; text[i] != '"'; i++) {
                                if (text[i] == '\0') {
                                        unparseable(error, path, text, pos,
                                                    "unterminated double quote");
                                        return NULL;
                                }
                                if (text[i] == '$' || text[i] == '`') {
                                        unparseable(error, path, text, pos,
                                                    "the value uses a shell variable or command "
                                                    "substitution");
                                        return NULL;
                                }
                                if (text[i] == '\\' && text[i + 1] &&
                                    strchr("$`\"\\\n", text[i + 1])) {
                                        escapes = TRUE;
                                        i++;
                                        if (text[i] == '\n')
                                                continue;
                                }
                                g_string_append_c(out, text[i]);
                        }
                        i++;
                } else if (c == '\'') {
                        if (segments++ == 0)
                                first_quote = '\'';
                        prev_bare = FALSE;
                        for (i++; text[i] != '\''; i++) {
                                if (text[i] == '\0') {
                                        unparseable(error, path, text, pos,
                                                    "unterminated single quote");
                                        return NULL;
                                }
                                g_string_append_c(out, text[i]);
                        }
                        i++;
                } else if (c == '$' || c == '`' || c == '\\' || c == '(' || c == '|' || c == '&' ||
                           c == '<' || c == '>') {
                        unparseable(error, path, text, pos,
                                    "the value uses shell expansion or escapes hostdev does not "
                                    "evaluate");
                        return NULL;
                } else {
                        if (!prev_bare)
                                segments++;
                        prev_bare = TRUE;
                        g_string_append_c(out, c);
                        i++;
                }
        }
        /* Only blanks and a comment may follow on the line. */
        {
                gsize j = i;
                while (text[j] == ' ' || text[j] == '\t')
                        j++;
                if (text[j] != '\0' && text[j] != '\n' && text[j] != '#') {
                        unparseable(error, path, text, pos,
                                    "more than one shell word or command on the line");
                        return NULL;
                }
        }
        {
                g_autoptr(GArray) spans = hd_cmdline_split_spans(out->str, NULL);
                if (!spans) {
                        unparseable(error, path, text, pos,
                                    "unterminated double quote inside the kernel command line");
                        return NULL;
                }
        }
        v = g_new0(Value, 1);
        v->shell = TRUE;
        v->start = pos;
        v->end = i;
        v->quote = segments == 1 ? first_quote : 0;
        v->simple = !escapes && segments <= 1;
        if (segments == 0) {
                v->quote = 0;
                v->simple = TRUE;
        }
        v->decoded = g_string_free(g_steal_pointer(&out), FALSE);
        return v;
}

static char *encode_shell_value(const Value *v, const char *value)
{
        g_autoptr(GString) s = NULL;
        gboolean bare_ok = *value != '\0';

        for (const char *p = value; *p; p++)
                if (!is_bare_char(*p))
                        bare_ok = FALSE;
        if (v->simple && v->quote == '"' && !strpbrk(value, "\\\"$`"))
                return g_strdup_printf("\"%s\"", value);
        if (v->simple && v->quote == '\'' && !strchr(value, '\''))
                return g_strdup_printf("'%s'", value);
        if (v->simple && v->quote == 0 && bare_ok)
                return g_strdup(value);
        s = g_string_new("\"");
        for (const char *p = value; *p; p++) {
                if (strchr("\\\"$`", *p))
                        g_string_append_c(s, '\\');
                g_string_append_c(s, *p);
        }
        g_string_append_c(s, '"');
        return g_string_free(g_steal_pointer(&s), FALSE);
}

/* Where the shell's next command line starts after the line at @pos that is not one of ours:
 * a quoted string or a backslash-newline carries the line on, a comment ends it. (Without
 * this, "GRUB_CMDLINE_LINUX=" inside another variable's multi-line quotes would be read as
 * an assignment the shell never makes.) (gsize)-1 when a quote is never closed, (gsize)-2
 * when a continued line sets GRUB_CMDLINE_LINUX* or the file ends in a continuation. */
static gsize shell_next_line(const char *text, gsize pos)
{
        gsize i = pos;
        gboolean word_start = TRUE;

        while (text[i] && text[i] != '\n') {
                char c = text[i];

                if (c == '#' && word_start) {
                        while (text[i] && text[i] != '\n')
                                i++;
                        break;
                }
                if (c == '\'' || c == '"') {
                        for (i++; text[i] && text[i] != c; i++)
                                if (c == '"' && text[i] == '\\' && text[i + 1])
                                        i++;
                        if (!text[i])
                                return (gsize)-1;
                } else if (c == '\\' && !text[i + 1]) {
                        return (gsize)-2; /* a newline we append would continue the line */
                } else if (c == '\\') {
                        i++; /* an escaped character, a newline included */
                        if (text[i] == '\n') {
                                gsize j = i + 1;
                                while (text[j] == ' ' || text[j] == '\t')
                                        j++;
                                /* one command with ours: the shell assigns it, we would
                                 * not; at the end, a line we append would join it */
                                if (g_str_has_prefix(text + j, "GRUB_CMDLINE_LINUX") ||
                                    text[j] == '\0')
                                        return (gsize)-2;
                        }
                }
                word_start = c == ' ' || c == '\t' || c == ';' || c == '&' || c == '|' ||
                             c == '(' || c == ')';
                i++;
        }
        return text[i] ? i + 1 : i;
}

/* GRUB_CMDLINE_LINUX and GRUB_CMDLINE_LINUX_DEFAULT: the last assignment of each wins, as in
 * the shell that grub-mkconfig sources the file with. */
static gboolean parse_grub(ConfigFile *f, GError **error)
{
        static const char *const names[] = {"GRUB_CMDLINE_LINUX_DEFAULT", "GRUB_CMDLINE_LINUX"};
        Value *found[2] = {NULL, NULL};
        const char *text = f->content;
        gsize pos = 0;

        while (text[pos]) {
                gsize q = pos;
                const char *nl;
                gsize next = shell_next_line(text, pos);

                if (next == (gsize)-1 || next == (gsize)-2) {
                        value_free(found[0]);
                        value_free(found[1]);
                        return unparseable(error, f->path, text, pos,
                                           next == (gsize)-1
                                               ? "unterminated quote"
                                               : "GRUB_CMDLINE_LINUX is set on a continued "
                                                 "line, or the file ends in one");
                }

                while (text[q] == ' ' || text[q] == '\t')
                        q++;
                if (g_str_has_prefix(text + q, "export "))
                        for (q += strlen("export "); text[q] == ' ' || text[q] == '\t'; q++)
                                ;
                for (guint n = 0; n < G_N_ELEMENTS(names); n++) {
                        gsize len = strlen(names[n]);
                        Value *v;

                        if (strncmp(text + q, names[n], len) != 0 || text[q + len] != '=')
                                continue;
                        v = parse_shell_value(f->path, text, q + len + 1, error);
                        if (!v) {
                                value_free(found[0]);
                                value_free(found[1]);
                                return FALSE;
                        }
                        if (found[n])
                                value_free(found[n]);
                        found[n] = v;
                        /* a value may span lines inside quotes */
                        nl = strchr(text + v->end, '\n');
                        next = nl ? (gsize)(nl - text) + 1 : strlen(text);
                        break;
                }
                pos = next;
        }
        if (!found[1]) {
                /* No GRUB_CMDLINE_LINUX yet: one is added at the end if needed. */
                Value *v = g_new0(Value, 1);
                gsize len = strlen(text);
                v->shell = TRUE;
                v->start = v->end = len;
                v->quote = '"';
                v->simple = TRUE;
                v->decoded = g_strdup("");
                v->insert = TRUE;
                v->prefix = len > 0 && text[len - 1] != '\n' ? "\nGRUB_CMDLINE_LINUX="
                                                             : "GRUB_CMDLINE_LINUX=";
                v->suffix = "\n";
                found[1] = v;
        }
        found[1]->accepts_add = TRUE;
        /* grub-mkconfig writes "linux ... ${GRUB_CMDLINE_LINUX} ${GRUB_CMDLINE_LINUX_DEFAULT}" */
        g_ptr_array_add(f->values, found[1]);
        if (found[0])
                g_ptr_array_add(f->values, found[0]);
        return TRUE;
}

/* ---- raw values: etc/kernel/cmdline, BLS "options" lines ---- */

static gboolean parse_kernel_cmdline_file(ConfigFile *f, GError **error)
{
        const char *text = f->content;
        gsize end = strlen(text);
        Value *v;

        for (const char *l = text; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL)
                if (*l == '#')
                        return unparseable(error, f->path, text, (gsize)(l - text),
                                           "comment lines are not supported");
        while (end > 0 && g_ascii_isspace(text[end - 1]))
                end--;
        v = g_new0(Value, 1);
        v->start = 0;
        v->end = end;
        v->simple = TRUE;
        v->decoded = g_strndup(text, end);
        v->accepts_add = TRUE;
        if (!f->exists) {
                v->insert = TRUE;
                v->prefix = "";
                v->suffix = "\n";
        }
        {
                g_autoptr(GArray) spans = hd_cmdline_split_spans(v->decoded, NULL);
                if (!spans) {
                        value_free(v);
                        return unparseable(error, f->path, text, 0, "unterminated double quote");
                }
                /* kernel-install splits the file on blanks and newlines and knows no quotes,
                 * and tools read a line starting with '#' as a comment: a word that spans
                 * lines or starts with '#' would not boot as the word hostdev shows, and
                 * removing the word before it could turn it into a comment line. */
                for (guint i = 0; i < spans->len; i += 2) {
                        gsize a = g_array_index(spans, gsize, i);
                        gsize b = g_array_index(spans, gsize, i + 1);
                        const char *why = v->decoded[a] == '#' ? "a word starts with '#'"
                                          : memchr(v->decoded + a, '\n', b - a)
                                              ? "a double-quoted word spans lines"
                                              : NULL;
                        if (why) {
                                value_free(v);
                                return unparseable(error, f->path, text, a, why);
                        }
                }
        }
        g_ptr_array_add(f->values, v);
        return TRUE;
}

static gboolean parse_bls_entry(ConfigFile *f, GError **error)
{
        const char *text = f->content;
        gsize pos = 0;
        Value *v = NULL;

        while (text[pos]) {
                const char *nl = strchr(text + pos, '\n');
                gsize eol = nl ? (gsize)(nl - text) : strlen(text);

                if (g_str_has_prefix(text + pos, "options") &&
                    (text[pos + 7] == ' ' || text[pos + 7] == '\t')) {
                        gsize start = pos + 7;
                        while (text[start] == ' ' || text[start] == '\t')
                                start++;
                        g_clear_pointer(&v, value_free);
                        v = g_new0(Value, 1);
                        v->start = start;
                        v->end = eol;
                        v->simple = TRUE;
                        v->decoded = g_strndup(text + start, eol - start);
                        if (strchr(v->decoded, '$')) {
                                value_free(v);
                                return unparseable(error, f->path, text, pos,
                                                   "the options line uses grubenv variables "
                                                   "($kernelopts); change them with grubby");
                        }
                }
                pos = nl ? eol + 1 : eol;
        }
        if (!v) {
                gsize len = strlen(text);
                v = g_new0(Value, 1);
                v->start = v->end = len;
                v->simple = TRUE;
                v->decoded = g_strdup("");
                v->insert = TRUE;
                v->prefix = len > 0 && text[len - 1] != '\n' ? "\noptions " : "options ";
                v->suffix = "\n";
        }
        {
                g_autoptr(GArray) spans = hd_cmdline_split_spans(v->decoded, NULL);
                if (!spans) {
                        value_free(v);
                        return unparseable(error, f->path, text, 0, "unterminated double quote");
                }
        }
        v->accepts_add = TRUE;
        g_ptr_array_add(f->values, v);
        return TRUE;
}

/* ---- text only (tests, fuzzing) ---- */

static void config_file_words(const ConfigFile *f, GPtrArray *out)
{
        for (guint j = 0; j < f->values->len; j++) {
                const Value *v = f->values->pdata[j];
                g_autoptr(GPtrArray) words = hd_cmdline_split(v->decoded, NULL);
                for (guint k = 0; words && k < words->len; k++)
                        g_ptr_array_add(out, g_strdup(words->pdata[k]));
        }
}

static char *edited_content(const ConfigFile *f);

gboolean hd_bootloader_edit_text(HdBootloaderFile format, const char *text,
                                 const GPtrArray *edits, GPtrArray **words, char **edited,
                                 GError **error)
{
        static const char *const paths[] = {"etc/default/grub", "etc/kernel/cmdline",
                                            "boot/loader/entries/entry.conf"};
        gboolean (*parse)(ConfigFile *, GError **) =
            format == HD_BOOTLOADER_FILE_GRUB_DEFAULT     ? parse_grub
            : format == HD_BOOTLOADER_FILE_KERNEL_CMDLINE ? parse_kernel_cmdline_file
                                                          : parse_bls_entry;
        ConfigFile *f;

        if ((guint)format >= G_N_ELEMENTS(paths)) {
                g_set_error(error, HD_ERROR, HD_ERROR_INVALID_ARGUMENT, "unknown file format %d",
                            (int)format);
                return FALSE;
        }
        f = g_new0(ConfigFile, 1);
        f->path = g_strdup(paths[format]);
        f->exists = TRUE;
        f->content = g_strdup(text);
        f->values = g_ptr_array_new_with_free_func(value_free);
        if (!parse(f, error)) {
                config_file_free(f);
                return FALSE;
        }
        if (words) {
                *words = g_ptr_array_new_with_free_func(g_free);
                config_file_words(f, *words);
        }
        if (edits && edited) {
                for (guint j = 0; j < f->values->len; j++) {
                        Value *v = f->values->pdata[j];
                        g_free(v->edited);
                        v->edited = edit_string(v->decoded, edits, v->accepts_add);
                }
                *edited = edited_content(f);
        }
        config_file_free(f);
        return TRUE;
}

/* ---- detection ---- */

static ConfigFile *read_config(HdCtx *ctx, const char *path, gboolean must_exist, GError **error)
{
        g_autoptr(GError) local = NULL;
        ConfigFile *f;
        char *content = hd_read_file_at(hd_ctx_get_root_fd(ctx), path, CONFIG_MAX, &local);

        if (!content && (must_exist || !g_error_matches(local, G_IO_ERROR, G_IO_ERROR_NOT_FOUND))) {
                g_set_error(error, HD_ERROR, HD_ERROR_FAILED,
                            "cannot read the bootloader config: %s", local->message);
                return NULL;
        }
        if (content && memchr(content, '\0', strlen(content)) != NULL) {
                g_free(content);
                g_set_error(error, HD_ERROR, HD_ERROR_FAILED, "/%s is not a text file", path);
                return NULL;
        }
        f = g_new0(ConfigFile, 1);
        f->path = g_strdup(path);
        f->exists = content != NULL;
        f->content = content ? content : g_strdup("");
        f->values = g_ptr_array_new_with_free_func(value_free);
        return f;
}

/* ID and ID_LIKE of etc/os-release, as one space-separated lowercase string. */
static char *os_ids(HdCtx *ctx)
{
        g_autofree char *text =
            hd_read_file_at(hd_ctx_get_root_fd(ctx), "etc/os-release", 65536, NULL);
        g_auto(GStrv) lines = NULL;
        g_autoptr(GString) ids = g_string_new(NULL);

        if (!text)
                text = hd_read_file_at(hd_ctx_get_root_fd(ctx), "usr/lib/os-release", 65536, NULL);
        if (!text)
                return g_strdup("");
        lines = g_strsplit(text, "\n", -1);
        for (char **l = lines; *l; l++) {
                const char *v = NULL;
                if (g_str_has_prefix(*l, "ID="))
                        v = *l + 3;
                else if (g_str_has_prefix(*l, "ID_LIKE="))
                        v = *l + 8;
                if (!v)
                        continue;
                g_string_append_c(ids, ' ');
                for (; *v; v++)
                        if (*v != '"' && *v != '\'')
                                g_string_append_c(ids, g_ascii_tolower(*v));
        }
        g_string_append_c(ids, ' ');
        return g_string_free(g_steal_pointer(&ids), FALSE);
}

static gboolean os_is(const char *ids, const char *id)
{
        g_autofree char *needle = g_strdup_printf(" %s ", id);

        return strstr(ids, needle) != NULL;
}

static gboolean exists(HdCtx *ctx, const char *path)
{
        return hd_exists_at(hd_ctx_get_root_fd(ctx), path, FALSE);
}

static GPtrArray *bls_entries(HdCtx *ctx)
{
        g_autoptr(GPtrArray) names =
            hd_list_dir_at(hd_ctx_get_root_fd(ctx), "boot/loader/entries", NULL);
        GPtrArray *out = g_ptr_array_new_with_free_func(g_free);

        /* A name with ".." could not be handed to hd_ctx_replace_file(); no real entry has
         * one. */
        for (guint i = 0; names && i < names->len; i++)
                if (g_str_has_suffix(names->pdata[i], ".conf") && !strstr(names->pdata[i], ".."))
                        g_ptr_array_add(out, g_strdup(names->pdata[i]));
        return out;
}

/* Version order ("6.10" after "6.9"), as BLS sorts entries. */
static gint compare_versions(gconstpointer a, gconstpointer b)
{
        g_autofree char *ka = g_utf8_collate_key_for_filename(*(const char *const *)a, -1);
        g_autofree char *kb = g_utf8_collate_key_for_filename(*(const char *const *)b, -1);

        return strcmp(ka, kb);
}

/* The entry grub boots by default: saved_entry in grubenv, else the newest version. */
static char *bls_default_entry(HdCtx *ctx, GPtrArray *entries)
{
        g_autofree char *env =
            hd_read_file_at(hd_ctx_get_root_fd(ctx), "boot/grub2/grubenv", 65536, NULL);

        if (env) {
                g_auto(GStrv) lines = g_strsplit(env, "\n", -1);
                for (char **l = lines; *l; l++) {
                        if (!g_str_has_prefix(*l, "saved_entry="))
                                continue;
                        g_autofree char *name =
                            g_strdup_printf("%s.conf", *l + strlen("saved_entry="));
                        for (guint i = 0; i < entries->len; i++)
                                if (strcmp(entries->pdata[i], name) == 0)
                                        return g_steal_pointer(&name);
                }
        }
        if (entries->len == 0)
                return NULL;
        g_ptr_array_sort(entries, compare_versions);
        return g_strdup(entries->pdata[entries->len - 1]);
}

static char **grub_command(HdCtx *ctx)
{
        g_autofree char *ids = os_ids(ctx);

        if (os_is(ids, "debian") || os_is(ids, "ubuntu"))
                return g_strdupv((char *[]){"update-grub", NULL});
        if (exists(ctx, "boot/grub2"))
                return g_strdupv((char *[]){"grub2-mkconfig", "-o", "/boot/grub2/grub.cfg", NULL});
        return g_strdupv((char *[]){"grub-mkconfig", "-o", "/boot/grub/grub.cfg", NULL});
}

static gboolean add_file(HdBootloader *bl, HdCtx *ctx, const char *path, gboolean must_exist,
                         gboolean (*parse)(ConfigFile *, GError **), GError **error)
{
        ConfigFile *f = read_config(ctx, path, must_exist, error);

        if (!f)
                return FALSE;
        if (!parse(f, error)) {
                config_file_free(f);
                return FALSE;
        }
        g_ptr_array_add(bl->files, f);
        return TRUE;
}

/* Words of the running kernel that the bootloader adds by itself and a config written from
 * scratch must not carry. */
static gboolean is_boot_generated(const char *word)
{
        return g_str_has_prefix(word, "BOOT_IMAGE=") || g_str_has_prefix(word, "initrd=");
}

HdBootloader *hd_bootloader_detect(HdCtx *ctx, GError **error)
{
        g_autoptr(HdBootloader) bl = g_new0(HdBootloader, 1);
        g_autoptr(GPtrArray) entries = bls_entries(ctx);
        g_autofree char *ids = os_ids(ctx);
        gboolean grubby_os = os_is(ids, "fedora") || os_is(ids, "rhel") || os_is(ids, "centos");
        gboolean has_grubby = exists(ctx, "usr/sbin/grubby") || exists(ctx, "sbin/grubby") ||
                              exists(ctx, "usr/bin/grubby");
        gboolean has_loader_conf = exists(ctx, "boot/loader/loader.conf") ||
                                   exists(ctx, "efi/loader/loader.conf") ||
                                   exists(ctx, "boot/efi/loader/loader.conf");

        bl->files = g_ptr_array_new_with_free_func(config_file_free);
        bl->cmdline = g_ptr_array_new_with_free_func(g_free);
        bl->warnings = g_ptr_array_new_with_free_func(g_free);

        if (exists(ctx, "etc/kernel/proxmox-boot-uuids")) {
                bl->kind = HD_BOOTLOADER_PROXMOX;
                bl->command = g_strdupv((char *[]){"proxmox-boot-tool", "refresh", NULL});
                if (exists(ctx, "etc/kernel/cmdline")) {
                        if (!add_file(bl, ctx, "etc/kernel/cmdline", TRUE,
                                      parse_kernel_cmdline_file, error))
                                return NULL;
                } else if (!add_file(bl, ctx, "etc/default/grub", TRUE, parse_grub, error)) {
                        return NULL;
                } else {
                        warn_grub_d(bl, ctx);
                }
        } else if (entries->len > 0 && (has_grubby || grubby_os)) {
                g_autofree char *def = bls_default_entry(ctx, entries);

                bl->kind = HD_BOOTLOADER_GRUBBY;
                bl->command = g_strdupv((char *[]){"grubby", "--update-kernel=ALL", NULL});
                for (guint i = 0; i < entries->len; i++) {
                        g_autofree char *path = g_strdup_printf("boot/loader/entries/%s",
                                                                (const char *)entries->pdata[i]);
                        if (!add_file(bl, ctx, path, TRUE, parse_bls_entry, error))
                                return NULL;
                        ((ConfigFile *)bl->files->pdata[bl->files->len - 1])->is_default =
                            g_strcmp0(def, entries->pdata[i]) == 0;
                }
        } else if (exists(ctx, "etc/kernel/cmdline") || has_loader_conf) {
                g_autofree char *rel = hd_host_get_kernel_release(ctx);
                ConfigFile *f;

                bl->kind = HD_BOOTLOADER_SYSTEMD_BOOT;
                if (rel) {
                        g_autofree char *modimage = g_strdup_printf("lib/modules/%s/vmlinuz", rel);
                        g_autofree char *image = exists(ctx, modimage)
                                                     ? g_strdup_printf("/%s", modimage)
                                                     : g_strdup_printf("/boot/vmlinuz-%s", rel);
                        bl->command =
                            g_strdupv((char *[]){"kernel-install", "add", rel, image, NULL});
                }
                if (!add_file(bl, ctx, "etc/kernel/cmdline", FALSE, parse_kernel_cmdline_file,
                              error))
                        return NULL;
                f = bl->files->pdata[0];
                if (!f->exists) {
                        /* kernel-install falls back to the running command line. */
                        g_autofree char *line =
                            hd_read_attr_optional_at(hd_ctx_get_root_fd(ctx), "proc/cmdline");
                        g_autoptr(GPtrArray) words = line ? hd_cmdline_split(line, NULL) : NULL;
                        g_autoptr(GString) s = g_string_new(NULL);
                        Value *v = f->values->pdata[0];

                        for (guint i = 0; words && i < words->len; i++) {
                                if (is_boot_generated(words->pdata[i]))
                                        continue;
                                if (s->len)
                                        g_string_append_c(s, ' ');
                                g_string_append(s, words->pdata[i]);
                        }
                        g_free(v->decoded);
                        v->decoded = g_string_free(g_steal_pointer(&s), FALSE);
                }
        } else if (exists(ctx, "etc/default/grub")) {
                bl->kind = HD_BOOTLOADER_GRUB;
                bl->command = grub_command(ctx);
                if (!add_file(bl, ctx, "etc/default/grub", TRUE, parse_grub, error))
                        return NULL;
                warn_grub_d(bl, ctx);
        } else {
                bl->kind = HD_BOOTLOADER_UNKNOWN;
        }

        for (guint i = 0; i < bl->files->len; i++) {
                ConfigFile *f = bl->files->pdata[i];

                if (bl->kind == HD_BOOTLOADER_GRUBBY && !f->is_default)
                        continue;
                if (!bl->config_path)
                        bl->config_path = g_strdup(f->path);
                config_file_words(f, bl->cmdline);
        }
        return g_steal_pointer(&bl);
}

/* ---- applying ---- */

static gint compare_start_descending(gconstpointer a, gconstpointer b)
{
        const Value *va = *(Value *const *)a;
        const Value *vb = *(Value *const *)b;

        return (va->start < vb->start) - (va->start > vb->start);
}

static char *edited_content(const ConfigFile *f)
{
        g_autoptr(GString) s = g_string_new(f->content);
        g_autoptr(GPtrArray) order = g_ptr_array_new();

        /* back to front in the file, so earlier offsets stay valid */
        for (guint j = 0; j < f->values->len; j++)
                g_ptr_array_add(order, f->values->pdata[j]);
        g_ptr_array_sort(order, compare_start_descending);
        for (guint j = 0; j < order->len; j++) {
                const Value *v = order->pdata[j];
                g_autofree char *encoded = NULL;

                if (!v->edited || strcmp(v->edited, v->decoded) == 0)
                        continue;
                encoded = v->shell ? encode_shell_value(v, v->edited) : g_strdup(v->edited);
                if (v->insert) {
                        char *wrapped = g_strconcat(v->prefix, encoded, v->suffix, NULL);
                        g_free(encoded);
                        encoded = wrapped;
                }
                g_string_erase(s, v->start, v->end - v->start);
                g_string_insert(s, v->start, encoded);
        }
        return g_string_free(g_steal_pointer(&s), FALSE);
}

static char **update_command(const HdBootloader *bl, const GPtrArray *edits)
{
        g_autoptr(GPtrArray) argv = g_ptr_array_new_with_free_func(g_free);

        for (char **a = bl->command; a && *a; a++)
                g_ptr_array_add(argv, g_strdup(*a));
        if (bl->kind == HD_BOOTLOADER_GRUBBY) {
                /* One --args and one --remove-args, each a space-separated list in one argv
                 * element: grubby splits them itself. No shell is involved, so no quoting
                 * layer can glue words together. */
                g_autoptr(GString) add = g_string_new(NULL);
                g_autoptr(GString) del = g_string_new(NULL);
                for (guint i = 0; i < edits->len; i++) {
                        const HdArgEdit *e = edits->pdata[i];
                        if (e->old_arg && e->op != HD_ARG_EDIT_ADD)
                                g_string_append_printf(del, "%s%s", del->len ? " " : "",
                                                       e->old_arg);
                        if (e->new_arg && e->op != HD_ARG_EDIT_REMOVE)
                                g_string_append_printf(add, "%s%s", add->len ? " " : "",
                                                       e->new_arg);
                }
                if (add->len)
                        g_ptr_array_add(argv, g_strdup_printf("--args=%s", add->str));
                if (del->len)
                        g_ptr_array_add(argv, g_strdup_printf("--remove-args=%s", del->str));
        }
        g_ptr_array_add(argv, NULL);
        return (char **)g_ptr_array_free(g_steal_pointer(&argv), FALSE);
}

/* ---- diffs ---- */

/* The lines of @text, each with its '\n' (the last may lack it). */
static GPtrArray *split_lines(const char *text)
{
        GPtrArray *lines = g_ptr_array_new_with_free_func(g_free);

        for (const char *p = text; *p;) {
                const char *nl = strchr(p, '\n');
                gsize n = nl ? (gsize)(nl - p) + 1 : strlen(p);
                g_ptr_array_add(lines, g_strndup(p, n));
                p += n;
        }
        return lines;
}

static void diff_line(GString *out, char mark, const char *line)
{
        g_string_append_c(out, mark);
        g_string_append(out, line);
        if (!g_str_has_suffix(line, "\n"))
                g_string_append(out, "\n\\ No newline at end of file\n");
}

/* "start,count" of a unified diff range (start of an empty range: the line before it). */
static void diff_range(GString *out, guint start, guint count)
{
        g_string_append_printf(out, "%u", count ? start + 1 : start);
        if (count != 1)
                g_string_append_printf(out, ",%u", count);
}

/* A unified diff of one file, as `diff -u` prints it. The changed lines are the span between
 * the common first and last lines (edits touch one or two adjacent assignment lines, so this
 * is what diff -u prints for them; for changes far apart it is still a correct diff, with
 * the unchanged lines between them shown as removed and added). */
static char *unified_diff(const char *path, const char *before, const char *after, gboolean create)
{
        g_autoptr(GPtrArray) a = split_lines(before);
        g_autoptr(GPtrArray) b = split_lines(after);
        g_autoptr(GString) out = g_string_new(NULL);
        guint pre = 0, suf = 0, ctx_start, a_end, b_end;

        while (pre < a->len && pre < b->len && strcmp(a->pdata[pre], b->pdata[pre]) == 0)
                pre++;
        while (suf < a->len - pre && suf < b->len - pre &&
               strcmp(a->pdata[a->len - 1 - suf], b->pdata[b->len - 1 - suf]) == 0)
                suf++;
        if (pre == a->len && pre == b->len)
                return g_strdup("");
        ctx_start = pre > DIFF_CONTEXT ? pre - DIFF_CONTEXT : 0;
        a_end = a->len - suf + MIN(suf, (guint)DIFF_CONTEXT);
        b_end = b->len - suf + MIN(suf, (guint)DIFF_CONTEXT);

        if (create)
                g_string_append_printf(out, "--- /dev/null\n+++ b/%s\n", path);
        else
                g_string_append_printf(out, "--- a/%s\n+++ b/%s\n", path, path);
        g_string_append(out, "@@ -");
        diff_range(out, ctx_start, a_end - ctx_start);
        g_string_append(out, " +");
        diff_range(out, ctx_start, b_end - ctx_start);
        g_string_append(out, " @@\n");
        for (guint i = ctx_start; i < pre; i++)
                diff_line(out, ' ', a->pdata[i]);
        for (guint i = pre; i < a->len - suf; i++)
                diff_line(out, '-', a->pdata[i]);
        for (guint i = pre; i < b->len - suf; i++)
                diff_line(out, '+', b->pdata[i]);
        for (guint i = a->len - suf; i < a_end; i++)
                diff_line(out, ' ', a->pdata[i]);
        return g_string_free(g_steal_pointer(&out), FALSE);
}

/* ---- backups and the update command ---- */

/* Every file the edits change (ConfigFile*) and its new content (char*), in file order. */
static void compute_changes(HdBootloader *bl, const GPtrArray *edits, GPtrArray *changed,
                            GPtrArray *contents)
{
        for (guint i = 0; i < bl->files->len; i++) {
                ConfigFile *f = bl->files->pdata[i];
                char *content;

                for (guint j = 0; j < f->values->len; j++) {
                        Value *v = f->values->pdata[j];
                        g_free(v->edited);
                        v->edited = edit_string(v->decoded, edits, v->accepts_add);
                }
                content = edited_content(f);
                if (f->exists && strcmp(content, f->content) == 0) {
                        g_free(content);
                        continue;
                }
                g_ptr_array_add(changed, f);
                g_ptr_array_add(contents, content);
        }
}

static HdBootloaderChange *change_new(const ConfigFile *f, const char *content)
{
        HdBootloaderChange *c = g_new0(HdBootloaderChange, 1);

        c->path = g_strdup(f->path);
        c->create = !f->exists;
        c->diff = unified_diff(f->path, f->exists ? f->content : "", content, !f->exists);
        c->first_backup = g_strconcat(f->path, BACKUP_SUFFIX, NULL);
        return c;
}

GPtrArray *hd_bootloader_preview(HdBootloader *bl, const GPtrArray *edits)
{
        g_autoptr(GPtrArray) changed = g_ptr_array_new();
        g_autoptr(GPtrArray) contents = g_ptr_array_new_with_free_func(g_free);
        GPtrArray *out = g_ptr_array_new_with_free_func((GDestroyNotify)hd_bootloader_change_free);

        compute_changes(bl, edits, changed, contents);
        for (guint i = 0; i < changed->len; i++)
                g_ptr_array_add(out, change_new(changed->pdata[i], contents->pdata[i]));
        return out;
}

/* The names of @path's timestamped backups (basenames), oldest first. */
static GPtrArray *stamped_backups(HdCtx *ctx, const char *path)
{
        g_autofree char *dir = g_path_get_dirname(path);
        g_autofree char *base = g_path_get_basename(path);
        g_autofree char *prefix = g_strconcat(base, BACKUP_SUFFIX, ".", NULL);
        g_autoptr(GPtrArray) names = hd_list_dir_at(hd_ctx_get_root_fd(ctx), dir, NULL);
        GPtrArray *out = g_ptr_array_new_with_free_func(g_free);

        for (guint i = 0; names && i < names->len; i++)
                if (g_str_has_prefix(names->pdata[i], prefix) &&
                    !strchr((const char *)names->pdata[i] + strlen(prefix), '/'))
                        g_ptr_array_add(out, g_strdup(names->pdata[i]));
        g_ptr_array_sort(out, compare_versions);
        return out;
}

/* Copy @f's current content before it is replaced: to FILE.hostdev-backup the first time,
 * else to a new FILE.hostdev-backup.STAMP, pruning the oldest stamped copies beyond
 * HD_BOOTLOADER_BACKUPS_KEPT. Sets @change->backup to the copy written. */
static gboolean back_up(HdCtx *ctx, const ConfigFile *f, HdBootloaderChange *change, GError **error)
{
        g_autofree char *dir = g_path_get_dirname(f->path);
        g_autoptr(GPtrArray) stamped = NULL;
        g_autoptr(GDateTime) now = NULL;
        g_autofree char *stamp = NULL;
        g_autofree char *name = NULL;

        if (!exists(ctx, change->first_backup)) {
                if (!hd_ctx_replace_file(ctx, change->first_backup, f->content, -1, error))
                        return FALSE;
                change->backup = g_strdup(change->first_backup);
                return TRUE;
        }
        stamped = stamped_backups(ctx, f->path);
        now = g_date_time_new_now_utc();
        stamp = g_date_time_format(now, "%Y%m%dT%H%M%SZ");
        name = g_strdup_printf("%s.%s", change->first_backup, stamp);
        for (guint n = 2; exists(ctx, name); n++) {
                g_free(name);
                name = g_strdup_printf("%s.%s-%u", change->first_backup, stamp, n);
        }
        if (!hd_ctx_replace_file(ctx, name, f->content, -1, error))
                return FALSE;
        change->backup = g_steal_pointer(&name);
        /* the new one is the newest; keep HD_BOOTLOADER_BACKUPS_KEPT in all */
        for (guint i = 0; stamped->len + 1 > HD_BOOTLOADER_BACKUPS_KEPT &&
                          i < stamped->len + 1 - HD_BOOTLOADER_BACKUPS_KEPT;
             i++) {
                g_autofree char *old = strcmp(dir, ".") == 0
                                           ? g_strdup(stamped->pdata[i])
                                           : g_build_filename(dir, stamped->pdata[i], NULL);
                if (!hd_ctx_remove_file(ctx, old, error))
                        return FALSE;
        }
        return TRUE;
}

/* The last lines of @output, at most OUTPUT_TAIL_MAX bytes, starting at a line. */
static char *output_tail(const char *output)
{
        const char *end, *p;
        guint lines = 0;

        if (!output)
                return g_strdup("");
        end = output + strlen(output);
        while (end > output && (end[-1] == '\n' || end[-1] == ' '))
                end--;
        p = end;
        while (p > output && (gsize)(end - p) < OUTPUT_TAIL_MAX) {
                if (p[-1] == '\n' && ++lines == OUTPUT_TAIL_LINES)
                        break;
                p--;
        }
        {
                char *tail = g_utf8_make_valid(p, end - p);

                /* no terminal control sequences (colours, cursor moves) in a report */
                for (char *c = tail; *c; c++)
                        if (((guchar)*c < 0x20 && *c != '\n' && *c != '\t') || *c == 0x7f)
                                *c = '?';
                return tail;
        }
}

gboolean hd_bootloader_apply(HdBootloader *bl, HdCtx *ctx, const GPtrArray *edits, GError **error)
{
        g_autoptr(GPtrArray) changed = g_ptr_array_new(); /* ConfigFile* */
        g_autoptr(GPtrArray) contents = g_ptr_array_new_with_free_func(g_free);
        g_autoptr(GError) run_error = NULL;
        g_autofree char *output = NULL;
        g_autofree char *cmd = NULL;
        HdBootloaderUpdate *u;

        if (bl->kind == HD_BOOTLOADER_UNKNOWN || !bl->command) {
                g_set_error(error, HD_ERROR, HD_ERROR_NOT_SUPPORTED,
                            "no supported bootloader found below %s (looked for "
                            "etc/kernel/proxmox-boot-uuids, BLS entries with grubby, "
                            "etc/kernel/cmdline, etc/default/grub); add the arguments by hand",
                            hd_ctx_get_root(ctx));
                return FALSE;
        }
        if (!hd_ctx_is_live_root(ctx) && hd_ctx_get_backend_kind(ctx) == HD_BACKEND_REAL) {
                g_set_error(error, HD_ERROR, HD_ERROR_REFUSED,
                            "refusing to run %s on this host for the files below %s; use "
                            "--backend sim to try it on a copy",
                            bl->command[0], hd_ctx_get_root(ctx));
                return FALSE;
        }

        /* Compute everything before touching anything. */
        compute_changes(bl, edits, changed, contents);
        if (bl->changes)
                g_ptr_array_unref(bl->changes);
        bl->changes = g_ptr_array_new_with_free_func((GDestroyNotify)hd_bootloader_change_free);
        for (guint i = 0; i < changed->len; i++)
                g_ptr_array_add(bl->changes, change_new(changed->pdata[i], contents->pdata[i]));
        g_clear_pointer(&bl->update, update_free);

        for (guint i = 0; i < changed->len; i++) {
                ConfigFile *f = changed->pdata[i];

                if ((f->exists && !back_up(ctx, f, bl->changes->pdata[i], error)) ||
                    !hd_ctx_replace_file(ctx, f->path, contents->pdata[i], -1, error)) {
                        g_prefix_error(
                            error, "cannot update /%s (the bootloader config was left as it was): ",
                            f->path);
                        goto restore;
                }
        }

        u = bl->update = g_new0(HdBootloaderUpdate, 1);
        u->argv = update_command(bl, edits);
        u->ran = !hd_ctx_get_dry_run(ctx);
        cmd = g_strjoinv(" ", u->argv);
        (void)hd_ctx_run_full(ctx, (const char *const *)u->argv, &output, &u->exit_status,
                              &run_error);
        u->output_tail = output_tail(output);
        u->succeeded = !run_error;
        if (run_error) {
                g_autoptr(GString) restored = g_string_new(NULL);

                for (guint i = 0; i < changed->len; i++) {
                        const ConfigFile *f = changed->pdata[i];
                        g_string_append_printf(restored, "%s/%s %s", restored->len ? ", " : "",
                                               f->path, f->exists ? "restored" : "removed again");
                }
                if (u->exit_status >= 0)
                        g_set_error(error, HD_ERROR, HD_ERROR_FAILED,
                                    "%s failed (exit %d)%s%s; the bootloader config is as it "
                                    "was (%s): fix what %s reports, then run kernel-args again",
                                    cmd, u->exit_status,
                                    *u->output_tail ? ", its last output: " : "", u->output_tail,
                                    restored->str, u->argv[0]);
                else
                        g_set_error(error, HD_ERROR, HD_ERROR_FAILED,
                                    "%s; the bootloader config is as it was (%s): install or "
                                    "repair %s, then run kernel-args again",
                                    run_error->message, restored->str, u->argv[0]);
                goto restore;
        }
        /* The files now say what was asked: they are the new baseline. */
        for (guint i = 0; !hd_ctx_get_dry_run(ctx) && i < changed->len; i++) {
                ConfigFile *f = changed->pdata[i];
                g_free(f->content);
                f->content = g_strdup(contents->pdata[i]);
                f->exists = TRUE;
        }
        return TRUE;

restore:
        for (guint i = 0; i < changed->len; i++) {
                ConfigFile *f = changed->pdata[i];
                if (f->exists)
                        (void)hd_ctx_replace_file(ctx, f->path, f->content, -1, NULL);
                else if (!hd_ctx_get_dry_run(ctx))
                        /* It did not exist before: an empty one would mean "no arguments". */
                        (void)hd_unlink_at(hd_ctx_get_root_fd(ctx), f->path, 0);
        }
        return FALSE;
}
