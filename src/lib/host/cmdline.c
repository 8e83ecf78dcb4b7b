/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <string.h>

#include <json-glib/json-glib.h>

#include "cmdline.h"
#include "fileio.h"
#include "hd-error.h"
#include "json-writer.h"
#include "kernel-words.h"
#include "machine.h"
#include "macros.h"
#include "parse.h"
#include "utf8.h"

/* ---- the options (kernel-options.c) ---- */

/* Parameters that take one value: a second word with another value is a contradiction, and
 * enabling replaces the old word in place. Keys as hd_cmdline_arg_key() makes them. */
static gboolean key_is_exclusive(const char *key)
{
        static const char *const keys[] = {
            "intel_iommu",      "amd_iommu",      "iommu",
            "kvm_intel.nested", "kvm_amd.nested", "vfio_iommu_type1.allow_unsafe_interrupts",
            "vfio_pci.ids",     "intremap",
        };

        for (gsize i = 0; i < G_N_ELEMENTS(keys); i++)
                if (strcmp(key, keys[i]) == 0)
                        return TRUE;
        return FALSE;
}

/* An argument meant for the other CPU vendor: the kernel ignores it, so asking for it is a
 * mistake worth refusing. Returns the reason or NULL. */
static char *foreign_reason(const char *arg, HdCpuVendor vendor)
{
        g_autofree char *key = hd_cmdline_arg_key(arg);

        if (vendor == HD_CPU_VENDOR_AMD &&
            (strcmp(key, "intel_iommu") == 0 || g_str_has_prefix(key, "kvm_intel.")))
                return g_strdup_printf("%s is for Intel CPUs and has no effect on this AMD host "
                                       "(AMD-Vi is on by default; nested is kvm-amd.nested=1): "
                                       "use the named options (--enable iommu, --enable nested)",
                                       arg);
        if (vendor == HD_CPU_VENDOR_INTEL &&
            (strcmp(key, "amd_iommu") == 0 || g_str_has_prefix(key, "kvm_amd.")))
                return g_strdup_printf("%s is for AMD CPUs and has no effect on this Intel host: "
                                       "use the named options (--enable iommu, --enable nested)",
                                       arg);
        return NULL;
}

static gboolean valid_vfio_ids(const char *ids)
{
        g_auto(GStrv) items = NULL;

        if (!ids || !*ids)
                return FALSE;
        items = g_strsplit(ids, ",", -1);
        for (char **it = items; *it; it++) {
                g_auto(GStrv) f = g_strsplit(*it, ":", -1);
                guint n = g_strv_length(f);

                if (n < 2 || n > 6)
                        return FALSE;
                for (guint i = 0; i < n; i++)
                        if (!hd_is_hex_string(f[i], i < 2 ? 4 : 1, i < 4 ? 4 : 8))
                                return FALSE;
        }
        return TRUE;
}

/* "vfio-ids=10de:1b80" -> the option and its value. With @value_optional an option that
 * takes a value may come without one (--disable vfio-ids: whatever hostdev set). */
static const HdKernelOption *parse_option(const char *text, gboolean value_optional, char **value,
                                          GError **error)
{
        const char *eq = strchr(text, '=');
        g_autofree char *name = eq ? g_strndup(text, eq - text) : g_strdup(text);

        gsize n_options = 0;
        const HdKernelOption *options = hd_kernel_options(&n_options);

        *value = NULL;
        for (gsize i = 0; i < n_options; i++) {
                if (strcmp(options[i].name, name) != 0)
                        continue;
                if (options[i].takes_value && !eq && !value_optional) {
                        g_set_error(error, HD_ERROR, HD_ERROR_INVALID_ARGUMENT,
                                    "option %s needs a value: %s=VENDOR:DEVICE[,...] (e.g. "
                                    "%s=10de:1b80,10de:10f0)",
                                    name, name, name);
                        return NULL;
                }
                if (!options[i].takes_value && eq) {
                        g_set_error(error, HD_ERROR, HD_ERROR_INVALID_ARGUMENT,
                                    "option %s takes no value", name);
                        return NULL;
                }
                *value = eq ? g_strdup(eq + 1) : NULL;
                return &options[i];
        }
        {
                g_autofree char *names = hd_kernel_option_names();
                g_set_error(error, HD_ERROR, HD_ERROR_INVALID_ARGUMENT,
                            "unknown kernel option '%s'; valid options: %s (or --custom ARGS for "
                            "anything else)",
                            name, names);
        }
        return NULL;
}

/* The words an option stands for on this vendor (@args), and words that undo it and go away
 * when it is enabled (@clears). */
static gboolean option_args(const HdKernelOption *opt, const char *value, HdCpuVendor vendor,
                            GPtrArray *args, GPtrArray *clears, GError **error)
{
        const char *name = opt->name;

        if (strcmp(name, "iommu") == 0 || strcmp(name, "nested") == 0) {
                if (vendor == HD_CPU_VENDOR_OTHER) {
                        /* the caller's request cannot be mapped: a refusal (409), not a
                         * failure of the host (500) */
                        g_set_error(error, HD_ERROR, HD_ERROR_REFUSED,
                                    "option %s has no mapping for this CPU (neither Intel nor "
                                    "AMD in proc/cpuinfo); use --custom with the argument your "
                                    "platform needs",
                                    name);
                        return FALSE;
                }
        }
        if (strcmp(name, "iommu") == 0) {
                if (vendor == HD_CPU_VENDOR_INTEL) {
                        g_ptr_array_add(args, g_strdup("intel_iommu=on"));
                        g_ptr_array_add(clears, g_strdup("intel_iommu=off"));
                } else {
                        g_ptr_array_add(clears, g_strdup("amd_iommu=off"));
                }
                g_ptr_array_add(clears, g_strdup("iommu=off"));
        } else if (strcmp(name, "iommu-pt") == 0) {
                g_ptr_array_add(args, g_strdup("iommu=pt"));
        } else if (strcmp(name, "nested") == 0) {
                g_ptr_array_add(args, g_strdup(vendor == HD_CPU_VENDOR_INTEL ? "kvm-intel.nested=1"
                                                                             : "kvm-amd.nested=1"));
        } else if (strcmp(name, "unsafe-interrupts") == 0) {
                g_ptr_array_add(args, g_strdup("vfio_iommu_type1.allow_unsafe_interrupts=1"));
        } else if (strcmp(name, "pci-realloc") == 0) {
                g_ptr_array_add(args, g_strdup("pci=realloc"));
        } else if (strcmp(name, "blacklist-nouveau") == 0) {
                g_ptr_array_add(args, g_strdup("modprobe.blacklist=nouveau"));
                g_ptr_array_add(args, g_strdup("rd.driver.blacklist=nouveau"));
        } else if (strcmp(name, "release-framebuffer") == 0) {
                /* efifb off when it is built in; sysfb_init never registers the firmware
                 * framebuffer's platform device (simplefb, simpledrm, efifb on 5.15+) */
                g_ptr_array_add(args, g_strdup("video=efifb:off"));
                g_ptr_array_add(args, g_strdup("initcall_blacklist=sysfb_init"));
        } else if (strcmp(name, "vfio-ids") == 0) {
                if (!valid_vfio_ids(value)) {
                        g_set_error(error, HD_ERROR, HD_ERROR_INVALID_ARGUMENT,
                                    "vfio-ids=%s: expected VENDOR:DEVICE[,VENDOR:DEVICE...] in "
                                    "hex, e.g. vfio-ids=10de:1b80,10de:10f0",
                                    value ? value : "");
                        return FALSE;
                }
                g_ptr_array_add(args, g_strdup_printf("vfio-pci.ids=%s", value));
        }
        return TRUE;
}

/* ---- remembered arguments ---- */

typedef struct {
        char *arg;
        char *replaced; /* the word it took the place of, or NULL */
} Remembered;

static void remembered_free(gpointer p)
{
        Remembered *r = p;

        g_free(r->arg);
        g_free(r->replaced);
        g_free(r);
}

static Remembered *state_find(GPtrArray *state, const char *arg)
{
        for (guint i = 0; i < state->len; i++) {
                Remembered *r = state->pdata[i];
                if (hd_cmdline_arg_equal(r->arg, arg))
                        return r;
        }
        return NULL;
}

static GPtrArray *load_state(HdCtx *ctx)
{
        GPtrArray *state = g_ptr_array_new_with_free_func(remembered_free);
        g_autofree char *text =
            hd_read_file_at(hd_ctx_get_root_fd(ctx), HD_KERNEL_ARGS_STATE, 1024 * 1024, NULL);
        g_autoptr(JsonParser) parser = json_parser_new();
        g_autoptr(GError) error = NULL;
        JsonNode *root;
        JsonArray *added;

        if (!text)
                return state;
        if (!json_parser_load_from_data(parser, text, -1, &error) ||
            !JSON_NODE_HOLDS_OBJECT((root = json_parser_get_root(parser))) ||
            !json_object_has_member(json_node_get_object(root), "added") ||
            !JSON_NODE_HOLDS_ARRAY(json_object_get_member(json_node_get_object(root), "added"))) {
                /* Without the record nothing counts as added by hostdev: --disable then
                 * removes nothing, the safe side. */
                hd_ctx_log(ctx, HD_LOG_WARNING,
                           "/%s is not valid; treating no kernel argument as added by hostdev",
                           HD_KERNEL_ARGS_STATE);
                return state;
        }
        added = json_object_get_array_member(json_node_get_object(root), "added");
        for (guint i = 0; i < json_array_get_length(added); i++) {
                JsonNode *n = json_array_get_element(added, i);
                JsonObject *o;
                Remembered *r;

                if (!JSON_NODE_HOLDS_OBJECT(n))
                        continue;
                o = json_node_get_object(n);
                if (!json_object_has_member(o, "arg") ||
                    json_object_get_string_member(o, "arg") == NULL)
                        continue;
                r = g_new0(Remembered, 1);
                r->arg = g_strdup(json_object_get_string_member(o, "arg"));
                if (json_object_has_member(o, "replaced") &&
                    !json_object_get_null_member(o, "replaced"))
                        r->replaced = g_strdup(json_object_get_string_member(o, "replaced"));
                g_ptr_array_add(state, r);
        }
        return state;
}

static gboolean save_state(HdCtx *ctx, HdBootloaderKind kind, GPtrArray *state, GError **error)
{
        g_autoptr(JsonBuilder) b = json_builder_new();
        g_autoptr(JsonNode) root = NULL;
        g_autofree char *text = NULL;
        g_autofree char *with_nl = NULL;

        json_builder_begin_object(b);
        json_builder_set_member_name(b, "bootloader");
        json_builder_add_string_value(b, hd_bootloader_kind_to_string(kind));
        json_builder_set_member_name(b, "added");
        json_builder_begin_array(b);
        for (guint i = 0; i < state->len; i++) {
                Remembered *r = state->pdata[i];
                json_builder_begin_object(b);
                json_builder_set_member_name(b, "arg");
                json_builder_add_string_value(b, r->arg);
                json_builder_set_member_name(b, "replaced");
                if (r->replaced)
                        json_builder_add_string_value(b, r->replaced);
                else
                        json_builder_add_null_value(b);
                json_builder_end_object(b);
        }
        json_builder_end_array(b);
        json_builder_end_object(b);
        root = json_builder_get_root(b);
        text = hd_json_node_to_text(root, TRUE);
        with_nl = g_strconcat(text, "\n", NULL);
        return hd_ctx_replace_file(ctx, HD_KERNEL_ARGS_STATE, with_nl, -1, error);
}

/* ---- planning ---- */

void hd_kernel_args_free(HdKernelArgs *ka)
{
        if (!ka)
                return;
        g_free(ka->config_path);
        g_clear_pointer(&ka->running, g_ptr_array_unref);
        g_clear_pointer(&ka->configured, g_ptr_array_unref);
        g_clear_pointer(&ka->desired, g_ptr_array_unref);
        g_clear_pointer(&ka->added, g_ptr_array_unref);
        g_clear_pointer(&ka->removed, g_ptr_array_unref);
        g_clear_pointer(&ka->notes, g_ptr_array_unref);
        g_clear_pointer(&ka->edits, g_ptr_array_unref);
        g_clear_pointer(&ka->state, g_ptr_array_unref);
        g_clear_pointer(&ka->changes, g_ptr_array_unref);
        hd_bootloader_free(ka->loader);
        g_free(ka);
}

static GPtrArray *copy_words(const GPtrArray *words)
{
        GPtrArray *out = g_ptr_array_new_with_free_func(g_free);

        for (guint i = 0; words && i < words->len; i++)
                g_ptr_array_add(out, g_strdup(words->pdata[i]));
        return out;
}

static int find_arg(const GPtrArray *words, const char *arg)
{
        for (guint i = 0; i < words->len; i++)
                if (hd_cmdline_arg_equal(words->pdata[i], arg))
                        return (int)i;
        return -1;
}

/* Words of @a not in @b (as multisets would be overkill: command lines rarely repeat). */
static GPtrArray *difference(const GPtrArray *a, const GPtrArray *b)
{
        GPtrArray *out = g_ptr_array_new_with_free_func(g_free);

        for (guint i = 0; i < a->len; i++)
                if (find_arg(b, a->pdata[i]) < 0)
                        g_ptr_array_add(out, g_strdup(a->pdata[i]));
        return out;
}

/* Words the bootloader or the boot entry supply by themselves rather than the configured
 * command line: they are in proc/cmdline without being "configured" there. */
gboolean hd_kernel_arg_supplied_by_boot(const char *word)
{
        static const char *const prefixes[] = {
            "BOOT_IMAGE=", "initrd=", "root=", "rootflags=", "rootfstype=", "systemd.machine_id="};

        if (strcmp(word, "ro") == 0 || strcmp(word, "rw") == 0)
                return TRUE;
        for (gsize i = 0; i < G_N_ELEMENTS(prefixes); i++)
                if (g_str_has_prefix(word, prefixes[i]))
                        return TRUE;
        return FALSE;
}

static gboolean compute_reboot_required(const HdKernelArgs *ka)
{
        if (ka->bootloader == HD_BOOTLOADER_UNKNOWN)
                return FALSE;
        for (guint i = 0; i < ka->configured->len; i++)
                if (find_arg(ka->running, ka->configured->pdata[i]) < 0)
                        return TRUE;
        for (guint i = 0; i < ka->running->len; i++) {
                const char *w = ka->running->pdata[i];
                if (strcmp(w, "--") == 0)
                        break; /* the rest belongs to init */
                if (!hd_kernel_arg_supplied_by_boot(w) && find_arg(ka->configured, w) < 0)
                        return TRUE;
        }
        return FALSE;
}

typedef struct {
        HdKernelArgs *ka;
        HdCpuVendor vendor;
        GPtrArray *wanted; /* char*: words enable/custom ask for */
} Planner;

static void push_edit(Planner *p, HdArgEditOp op, const char *old_arg, const char *new_arg,
                      gboolean by_hostdev)
{
        HdArgEdit *e = hd_arg_edit_new(op, old_arg, new_arg);
        g_autoptr(GPtrArray) one = g_ptr_array_new();

        e->by_hostdev = by_hostdev;
        g_ptr_array_add(p->ka->edits, e);
        g_ptr_array_add(one, e);
        hd_arg_edits_apply_words(p->ka->desired, one);
}

static void note(Planner *p, const char *format, ...) G_GNUC_PRINTF(2, 3);
static void note(Planner *p, const char *format, ...)
{
        va_list ap;

        va_start(ap, format);
        g_ptr_array_add(p->ka->notes, g_strdup_vprintf(format, ap));
        va_end(ap);
}

/* Ask for @arg to be in the desired command line. */
/* Whether @have ("intel_iommu=on,sm_on") already says what @arg ("intel_iommu=on") asks
 * for: same parameter, and the value is one item of its comma-separated list. */
static gboolean value_listed(const char *have, const char *arg)
{
        g_autofree char *kh = hd_cmdline_arg_key(have);
        g_autofree char *ka = hd_cmdline_arg_key(arg);
        const char *vh = strchr(have, '=');
        const char *va = strchr(arg, '=');
        g_auto(GStrv) items = NULL;

        if (strcmp(kh, ka) != 0 || !vh || !va)
                return FALSE;
        items = g_strsplit(vh + 1, ",", -1);
        return g_strv_contains((const char *const *)items, va + 1);
}

static gboolean want(Planner *p, const char *arg, GError **error)
{
        g_autofree char *key = hd_cmdline_arg_key(arg);
        GPtrArray *desired = p->ka->desired;

        if (find_arg(p->wanted, arg) >= 0)
                return TRUE;
        if (key_is_exclusive(key)) {
                for (guint i = 0; i < p->wanted->len; i++) {
                        g_autofree char *k = hd_cmdline_arg_key(p->wanted->pdata[i]);
                        if (strcmp(k, key) == 0) {
                                g_set_error(error, HD_ERROR, HD_ERROR_REFUSED,
                                            "%s and %s contradict each other: %s takes one value",
                                            (const char *)p->wanted->pdata[i], arg, key);
                                return FALSE;
                        }
                }
        }
        g_ptr_array_add(p->wanted, g_strdup(arg));
        if (find_arg(desired, arg) >= 0) {
                note(p, "%s is already configured", arg);
                return TRUE;
        }
        for (guint i = 0; i < desired->len; i++) {
                if (value_listed(desired->pdata[i], arg)) {
                        note(p, "%s is already configured (%s)", arg,
                             (const char *)desired->pdata[i]);
                        return TRUE;
                }
        }
        if (key_is_exclusive(key)) {
                for (guint i = 0; i < desired->len; i++) {
                        g_autofree char *k = hd_cmdline_arg_key(desired->pdata[i]);
                        g_autofree char *old = NULL;
                        if (strcmp(k, key) != 0)
                                continue;
                        old = g_strdup(desired->pdata[i]);
                        note(p, "%s replaces %s", arg, old);
                        push_edit(p, HD_ARG_EDIT_REPLACE, old, arg, TRUE);
                        return TRUE;
                }
        }
        push_edit(p, HD_ARG_EDIT_ADD, NULL, arg, TRUE);
        return TRUE;
}

static gboolean plan_enable(Planner *p, const char *text, GError **error)
{
        g_autofree char *value = NULL;
        const HdKernelOption *opt = parse_option(text, FALSE, &value, error);
        g_autoptr(GPtrArray) args = g_ptr_array_new_with_free_func(g_free);
        g_autoptr(GPtrArray) clears = g_ptr_array_new_with_free_func(g_free);

        if (!opt || !option_args(opt, value, p->vendor, args, clears, error))
                return FALSE;
        for (guint i = 0; i < args->len; i++)
                if (!want(p, args->pdata[i], error))
                        return FALSE;
        for (guint i = 0; i < clears->len; i++) {
                if (find_arg(p->ka->desired, clears->pdata[i]) < 0)
                        continue;
                note(p, "%s is removed: it would keep the IOMMU off",
                     (const char *)clears->pdata[i]);
                push_edit(p, HD_ARG_EDIT_REMOVE, clears->pdata[i], NULL, FALSE);
        }
        if (strcmp(opt->name, "iommu") == 0 && p->vendor == HD_CPU_VENDOR_AMD)
                note(p, "AMD-Vi needs no kernel argument: it is on when the firmware has an IVRS "
                        "table (amd_iommu=on is not a kernel argument)");
        return TRUE;
}

static gboolean plan_disable(Planner *p, const char *text, GError **error)
{
        g_autofree char *value = NULL;
        const HdKernelOption *opt = parse_option(text, TRUE, &value, error);
        g_autoptr(GPtrArray) args = g_ptr_array_new_with_free_func(g_free);
        g_autoptr(GPtrArray) clears = g_ptr_array_new_with_free_func(g_free);

        if (!opt)
                return FALSE;
        if (opt->takes_value && !value) {
                /* whatever value hostdev set for it */
                g_autofree char *key = NULL;
                if (!option_args(opt, "0000:0000", p->vendor, args, clears, error))
                        return FALSE;
                key = hd_cmdline_arg_key(args->pdata[0]);
                g_ptr_array_set_size(args, 0);
                for (guint i = 0; i < p->ka->state->len; i++) {
                        Remembered *r = p->ka->state->pdata[i];
                        g_autofree char *k = hd_cmdline_arg_key(r->arg);
                        if (strcmp(k, key) == 0)
                                g_ptr_array_add(args, g_strdup(r->arg));
                }
                if (args->len == 0)
                        note(p, "hostdev set no %s", key);
        } else if (!option_args(opt, value, p->vendor, args, clears, error)) {
                return FALSE;
        }
        if (strcmp(opt->name, "iommu") == 0 && p->vendor == HD_CPU_VENDOR_AMD)
                note(p, "AMD-Vi is on whenever the firmware has an IVRS table; to turn it off, "
                        "--custom amd_iommu=off");
        for (guint i = 0; i < args->len; i++) {
                const char *arg = args->pdata[i];
                Remembered *r;
                int idx = find_arg(p->ka->desired, arg);

                if (idx < 0) {
                        note(p, "%s is not configured", arg);
                        continue;
                }
                r = state_find(p->ka->state, arg);
                if (!r) {
                        note(p,
                             "%s was not added by hostdev and stays (remove it with --remove "
                             "%s)",
                             arg, arg);
                        continue;
                }
                if (r->replaced) {
                        note(p, "%s is put back in place of %s", r->replaced, arg);
                        push_edit(p, HD_ARG_EDIT_REPLACE, p->ka->desired->pdata[idx], r->replaced,
                                  FALSE);
                } else {
                        push_edit(p, HD_ARG_EDIT_REMOVE, p->ka->desired->pdata[idx], NULL, FALSE);
                }
        }
        return TRUE;
}

static gboolean plan_custom(Planner *p, const char *text, GError **error)
{
        g_autoptr(GError) local = NULL;
        g_autoptr(GPtrArray) words = hd_cmdline_split(text, &local);

        if (!words) {
                g_set_error(error, HD_ERROR, HD_ERROR_INVALID_ARGUMENT, "--custom %s: %s", text,
                            local->message);
                return FALSE;
        }
        for (guint i = 0; i < words->len; i++) {
                g_autofree char *why = foreign_reason(words->pdata[i], p->vendor);
                if (why) {
                        g_set_error(error, HD_ERROR, HD_ERROR_REFUSED, "%s", why);
                        return FALSE;
                }
                if (!want(p, words->pdata[i], error))
                        return FALSE;
        }
        return TRUE;
}

static gboolean plan_remove(Planner *p, const char *text, GError **error)
{
        gboolean has_value = strchr(text, '=') != NULL;
        g_autofree char *key = hd_cmdline_arg_key(text);
        gboolean any = FALSE;

        for (guint i = 0; i < p->wanted->len; i++) {
                g_autofree char *k = hd_cmdline_arg_key(p->wanted->pdata[i]);
                if (has_value ? hd_cmdline_arg_equal(p->wanted->pdata[i], text)
                              : strcmp(k, key) == 0) {
                        g_set_error(error, HD_ERROR, HD_ERROR_INVALID_ARGUMENT,
                                    "--remove %s contradicts asking for %s", text,
                                    (const char *)p->wanted->pdata[i]);
                        return FALSE;
                }
        }
        for (guint i = 0; i < p->ka->desired->len;) {
                const char *w = p->ka->desired->pdata[i];
                g_autofree char *k = hd_cmdline_arg_key(w);
                g_autofree char *word = g_strdup(w);

                if (has_value ? !hd_cmdline_arg_equal(w, text) : strcmp(k, key) != 0) {
                        i++;
                        continue;
                }
                any = TRUE;
                push_edit(p, HD_ARG_EDIT_REMOVE, word, NULL, FALSE);
        }
        if (!any)
                note(p, "%s is not configured", text);
        return TRUE;
}

/* The kernel and the bootloaders take printable ASCII words separated by spaces: a control
 * character (a newline ends GRUB's line, ESC drives the console) or a byte above 0x7e in what
 * the caller asks for is refused before anything is planned or written. */
static gboolean check_arg_bytes(const char *option, const GPtrArray *texts, GError **error)
{
        for (guint i = 0; texts && i < texts->len; i++) {
                const char *text = texts->pdata[i];
                for (const guchar *b = (const guchar *)text; *b; b++) {
                        g_autofree char *shown = NULL;
                        if (*b == ' ' || (*b > 0x20 && *b < 0x7f))
                                continue;
                        shown = hd_utf8_printable(text);
                        g_set_error(error, HD_ERROR, HD_ERROR_INVALID_ARGUMENT,
                                    "%s '%s': byte 0x%02x at offset %u is %s; kernel arguments "
                                    "are printable ASCII words separated by spaces",
                                    option, shown, *b, (guint)(b - (const guchar *)text),
                                    *b < 0x20 || *b == 0x7f ? "a control character" : "not ASCII");
                        return FALSE;
                }
        }
        return TRUE;
}

/* Options named both ways, or one the other cannot change. */
static gboolean check_contradictions(const HdKernelArgsRequest *req, GError **error)
{
        for (guint i = 0; req->enable && i < req->enable->len; i++) {
                g_autofree char *a = hd_cmdline_arg_key(req->enable->pdata[i]);
                for (guint j = 0; req->disable && j < req->disable->len; j++) {
                        g_autofree char *b = hd_cmdline_arg_key(req->disable->pdata[j]);
                        if (strcmp(a, b) == 0) {
                                g_set_error(error, HD_ERROR, HD_ERROR_INVALID_ARGUMENT,
                                            "--enable %s and --disable %s contradict each other",
                                            (const char *)req->enable->pdata[i],
                                            (const char *)req->disable->pdata[j]);
                                return FALSE;
                        }
                }
        }
        return TRUE;
}

HdKernelArgs *hd_kernel_args_plan(HdCtx *ctx, const HdKernelArgsRequest *req, GError **error)
{
        g_autoptr(HdKernelArgs) ka = g_new0(HdKernelArgs, 1);
        g_autofree char *line = NULL;
        g_autoptr(GPtrArray) wanted = g_ptr_array_new_with_free_func(g_free);
        Planner p = {ka, hd_host_get_cpu_vendor(ctx), wanted};

        if (!check_arg_bytes("--enable", req->enable, error) ||
            !check_arg_bytes("--disable", req->disable, error) ||
            !check_arg_bytes("--custom", req->custom, error) ||
            !check_arg_bytes("--remove", req->remove, error) || !check_contradictions(req, error))
                return NULL;
        ka->notes = g_ptr_array_new_with_free_func(g_free);
        ka->edits = g_ptr_array_new_with_free_func((GDestroyNotify)hd_arg_edit_free);
        line = hd_read_attr_optional_at(hd_ctx_get_root_fd(ctx), "proc/cmdline");
        ka->running = line ? hd_cmdline_split(line, NULL) : copy_words(NULL);
        if (!ka->running) {
                /* The kernel accepts an unterminated quote; show the words by blanks. */
                g_auto(GStrv) w = g_strsplit_set(line, " \t\n", -1);
                ka->running = copy_words(NULL);
                for (char **x = w; *x; x++)
                        if (**x)
                                g_ptr_array_add(ka->running, g_strdup(*x));
        }

        ka->loader = hd_bootloader_detect(ctx, error);
        if (!ka->loader)
                return NULL;
        ka->bootloader = hd_bootloader_get_kind(ka->loader);
        ka->config_path = g_strdup(hd_bootloader_get_config_path(ka->loader));
        ka->configured = copy_words(hd_bootloader_get_cmdline(ka->loader));
        ka->desired = copy_words(ka->configured);
        ka->state = load_state(ctx);
        {
                const GPtrArray *warnings = hd_bootloader_get_warnings(ka->loader);
                for (guint i = 0; i < warnings->len; i++)
                        g_ptr_array_add(ka->notes, g_strdup(warnings->pdata[i]));
        }

        for (guint i = 0; req->enable && i < req->enable->len; i++)
                if (!plan_enable(&p, req->enable->pdata[i], error))
                        return NULL;
        for (guint i = 0; req->custom && i < req->custom->len; i++)
                if (!plan_custom(&p, req->custom->pdata[i], error))
                        return NULL;
        for (guint i = 0; req->disable && i < req->disable->len; i++)
                if (!plan_disable(&p, req->disable->pdata[i], error))
                        return NULL;
        for (guint i = 0; req->remove && i < req->remove->len; i++)
                if (!plan_remove(&p, req->remove->pdata[i], error))
                        return NULL;

        ka->added = difference(ka->desired, ka->configured);
        ka->removed = difference(ka->configured, ka->desired);
        ka->reboot_required = compute_reboot_required(ka);
        ka->changes = hd_bootloader_preview(ka->loader, ka->edits);
        return g_steal_pointer(&ka);
}

static gboolean same_words(const GPtrArray *a, const GPtrArray *b)
{
        if (a->len != b->len)
                return FALSE;
        for (guint i = 0; i < a->len; i++)
                if (strcmp(a->pdata[i], b->pdata[i]) != 0)
                        return FALSE;
        return TRUE;
}

gboolean hd_kernel_args_apply(HdCtx *ctx, HdKernelArgs *ka, GError **error)
{
        g_autoptr(GPtrArray) state = g_ptr_array_new_with_free_func(remembered_free);

        gboolean ok;

        if (same_words(ka->desired, ka->configured))
                return TRUE;
        ok = hd_bootloader_apply(ka->loader, ctx, ka->edits, error);
        if (hd_bootloader_get_changes(ka->loader)) {
                g_ptr_array_unref(ka->changes);
                ka->changes = g_ptr_array_ref((GPtrArray *)hd_bootloader_get_changes(ka->loader));
        }
        ka->update = hd_bootloader_get_update(ka->loader);
        if (!ok)
                return FALSE;

        /* Remember what hostdev added; forget what is gone. */
        for (guint i = 0; i < ka->state->len; i++) {
                Remembered *r = ka->state->pdata[i];
                if (find_arg(ka->desired, r->arg) < 0)
                        continue;
                Remembered *copy = g_new0(Remembered, 1);
                copy->arg = g_strdup(r->arg);
                copy->replaced = g_strdup(r->replaced);
                g_ptr_array_add(state, copy);
        }
        for (guint i = 0; i < ka->edits->len; i++) {
                const HdArgEdit *e = ka->edits->pdata[i];
                Remembered *r;

                if (!e->by_hostdev || state_find(state, e->new_arg) ||
                    find_arg(ka->desired, e->new_arg) < 0)
                        continue;
                r = g_new0(Remembered, 1);
                r->arg = g_strdup(e->new_arg);
                if (e->op == HD_ARG_EDIT_REPLACE) {
                        /* Replacing a word hostdev wrote itself: what that one replaced is
                         * what the admin had. */
                        Remembered *prev = state_find(ka->state, e->old_arg);
                        r->replaced = g_strdup(prev ? prev->replaced : e->old_arg);
                }
                g_ptr_array_add(state, r);
        }
        if (!save_state(ctx, ka->bootloader, state, error)) {
                g_prefix_error(error, "the bootloader was updated, but what hostdev added could "
                                      "not be recorded: ");
                return FALSE;
        }
        if (hd_ctx_get_dry_run(ctx))
                return TRUE; /* the write log says what would have happened */
        g_ptr_array_unref(ka->state);
        ka->state = g_steal_pointer(&state);
        g_ptr_array_unref(ka->configured);
        ka->configured = copy_words(ka->desired);
        ka->applied = TRUE;
        ka->reboot_required = compute_reboot_required(ka);
        return TRUE;
}
