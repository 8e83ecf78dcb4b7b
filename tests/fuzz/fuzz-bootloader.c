/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libFuzzer target for the bootloader config parser and editor (bootloader.c): GRUB's
 * etc/default/grub shell assignments, etc/kernel/cmdline and BLS entries.
 *
 * Input: byte 0 picks the format, byte 1 which configured word to remove, then the word to
 * add up to the first newline, then the file's text. Invariants:
 *  - the parser either refuses the file or yields its words;
 *  - adding a word the file lacks writes a file that parses back to exactly the old words
 *    plus the new one (as a multiset: GRUB puts it inside GRUB_CMDLINE_LINUX);
 *  - removing a word that occurs once writes a file that parses back to the old words minus
 *    that one.
 * A failure means hostdev would write a bootloader config that does not say what it told
 * the admin it says.
 */
#include "config.h"

#include <string.h>

#include "bootloader.h"
#include "cmdline.h"

int LLVMFuzzerTestOneInput(const guint8 *data, size_t size);

static gint compare_strings(gconstpointer a, gconstpointer b)
{
        return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static char *join(GPtrArray *words)
{
        g_ptr_array_add(words, NULL);
        g_ptr_array_set_size(words, words->len - 1);
        return g_strjoinv("|", (char **)words->pdata);
}

/* Same words as a multiset, or fail showing both files. */
static void assert_same_words(GPtrArray *a, GPtrArray *b, const char *text, const char *edited)
{
        gboolean same = a->len == b->len;

        g_ptr_array_sort(a, compare_strings);
        g_ptr_array_sort(b, compare_strings);
        for (guint i = 0; same && i < a->len; i++)
                same = strcmp(a->pdata[i], b->pdata[i]) == 0;
        if (!same) {
                g_autofree char *ja = join(a), *jb = join(b);
                g_error("expected words %s, the edited file says %s\n--- before\n%s\n--- after\n%s",
                        ja, jb, text, edited);
        }
}

/* as the kernel compares them: '-' and '_' alike in the key */
static guint count_word(const GPtrArray *words, const char *w)
{
        guint n = 0;

        for (guint i = 0; i < words->len; i++)
                n += hd_cmdline_arg_equal(words->pdata[i], w);
        return n;
}

/* A word the command line parser takes back as one word, of the characters kernel
 * arguments are made of. */
static gboolean plausible_arg(const char *arg)
{
        g_autoptr(GPtrArray) split = NULL;

        if (!*arg || arg[0] == '#')
                return FALSE;
        for (const char *p = arg; *p; p++)
                if (!g_ascii_isalnum(*p) && !strchr("._,:=/+-\" ", *p))
                        return FALSE;
        split = hd_cmdline_split(arg, NULL);
        return split && split->len == 1 && strcmp(split->pdata[0], arg) == 0;
}

static void check_edit(HdBootloaderFile format, const char *text, GPtrArray *before,
                       HdArgEditOp op, const char *arg)
{
        g_autoptr(GPtrArray) edits = g_ptr_array_new_with_free_func((GDestroyNotify)hd_arg_edit_free);
        g_autoptr(GPtrArray) expected = g_ptr_array_new_with_free_func(g_free);
        g_autoptr(GPtrArray) after = NULL;
        g_autoptr(GError) error = NULL;
        g_autofree char *edited = NULL;

        g_ptr_array_add(edits, hd_arg_edit_new(op, op == HD_ARG_EDIT_ADD ? NULL : arg,
                                               op == HD_ARG_EDIT_ADD ? arg : NULL));
        for (guint i = 0; i < before->len; i++)
                g_ptr_array_add(expected, g_strdup(before->pdata[i]));
        hd_arg_edits_apply_words(expected, edits);

        g_assert_true(hd_bootloader_edit_text(format, text, edits, NULL, &edited, &error));
        if (!hd_bootloader_edit_text(format, edited, NULL, &after, NULL, &error))
                g_error("the edited file does not parse: %s\n--- before\n%s\n--- after\n%s",
                        error->message, text, edited);
        assert_same_words(expected, after, text, edited);
}

int LLVMFuzzerTestOneInput(const guint8 *data, size_t size)
{
        g_autofree char *input = NULL;
        g_autoptr(GPtrArray) words = NULL;
        HdBootloaderFile format;
        const char *text;
        char *nl;
        guint pick;

        if (size < 2)
                return 0;
        format = (HdBootloaderFile)(data[0] % 3);
        pick = data[1];
        input = g_strndup((const char *)data + 2, size - 2);
        nl = strchr(input, '\n');
        if (!nl)
                return 0;
        *nl = '\0';
        text = nl + 1;

        if (!hd_bootloader_edit_text(format, text, NULL, &words, NULL, NULL))
                return 0;
        for (guint i = 0; i < words->len; i++)
                g_assert_true(*(const char *)words->pdata[i] != '\0');

        if (plausible_arg(input) && count_word(words, input) == 0)
                check_edit(format, text, words, HD_ARG_EDIT_ADD, input);
        if (words->len > 0) {
                const char *victim = words->pdata[pick % words->len];
                if (count_word(words, victim) == 1)
                        check_edit(format, text, words, HD_ARG_EDIT_REMOVE, victim);
        }
        return 0;
}
