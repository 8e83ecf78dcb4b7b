/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <gio/gio.h>

#include "device.h"
#include "fileio.h"
#include "hd-error.h"
#include "journal.h"
#include "lock.h"
#include "macros.h"
#include "parse.h"

#define JOURNAL_DIR "var/lib/hostdev/journal"
#define QUARANTINE_NAME "quarantine"
#define ORIGINS_FILE "var/lib/hostdev/origins"
#define ORIGINS_LOCK "var/lib/hostdev/origins.lock"

const char *hd_tx_kind_to_string(HdTxKind kind)
{
        switch (kind) {
        case HD_TX_ATTACH:
                return "attach";
        case HD_TX_SRIOV:
                return "sriov";
        case HD_TX_DETACH:
        default:
                return "detach";
        }
}

static gboolean tx_kind_from_string(const char *s, HdTxKind *out)
{
        if (g_strcmp0(s, "detach") == 0)
                *out = HD_TX_DETACH;
        else if (g_strcmp0(s, "attach") == 0)
                *out = HD_TX_ATTACH;
        else if (g_strcmp0(s, "sriov") == 0)
                *out = HD_TX_SRIOV;
        else
                return FALSE;
        return TRUE;
}

static void device_free(gpointer p)
{
        HdJournalDevice *d = p;

        g_free(d->name);
        g_free(d->original_driver);
        g_free(d->original_override);
        g_free(d->target_driver);
        g_free(d);
}

static void step_free(gpointer p)
{
        HdJournalStep *s = p;

        g_free(s->path);
        g_free(s->value);
        g_free(s);
}

HdJournal *hd_journal_new(HdCtx *ctx, HdTxKind kind)
{
        HdJournal *j = g_new0(HdJournal, 1);
        static gint counter; /* atomic: the agent begins transactions in several threads */

        j->ctx = ctx;
        j->kind = kind;
        j->id = g_strdup_printf("%" G_GINT64_FORMAT "-%d-%u", g_get_real_time(), (int)getpid(),
                                (guint)g_atomic_int_add(&counter, 1));
        j->file = g_strdup_printf(JOURNAL_DIR "/%s", j->id);
        j->state = g_strdup("writing");
        j->devices = g_ptr_array_new_with_free_func(device_free);
        j->steps = g_ptr_array_new_with_free_func(step_free);
        j->sriov_autoprobe = -1;
        return j;
}

void hd_journal_free(HdJournal *j)
{
        if (!j)
                return;
        g_free(j->id);
        g_free(j->file);
        g_free(j->state);
        g_ptr_array_unref(j->devices);
        g_ptr_array_unref(j->steps);
        g_free(j);
}

void hd_journal_add_device(HdJournal *j, const char *name, int group, const char *driver,
                           const char *override, const char *target)
{
        HdJournalDevice *d = g_new0(HdJournalDevice, 1);

        d->name = g_strdup(name);
        d->group = group;
        d->original_driver = g_strdup(driver);
        d->original_override = g_strdup(override);
        d->target_driver = g_strdup(target);
        g_ptr_array_add(j->devices, d);
}

void hd_journal_add_step(HdJournal *j, const char *path, const char *value)
{
        HdJournalStep *s = g_new0(HdJournalStep, 1);

        s->path = g_strdup(path);
        s->value = g_strdup(value);
        g_ptr_array_add(j->steps, s);
}

/* ---------------------------------------------------------------- persistence */

static void set_optional(GKeyFile *kf, const char *group, const char *key, const char *value)
{
        if (value)
                g_key_file_set_string(kf, group, key, value);
}

static gboolean sync_dir(int root_fd, const char *dir)
{
        hd_autofd int fd = hd_open_at(root_fd, dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0);

        /* The rename is durable only once the directory is: fsync it too. */
        return fd >= 0 && fsync(fd) == 0;
}

static gboolean journal_save(HdJournal *j, GError **error)
{
        g_autoptr(GKeyFile) kf = g_key_file_new();
        g_autofree char *data = NULL;
        int root_fd = hd_ctx_get_root_fd(j->ctx);

        if (hd_ctx_get_dry_run(j->ctx))
                return TRUE; /* a dry run (recover --dry-run) changes nothing (B6) */
        g_key_file_set_string(kf, "transaction", "id", j->id);
        g_key_file_set_string(kf, "transaction", "operation", hd_tx_kind_to_string(j->kind));
        g_key_file_set_string(kf, "transaction", "state", j->state);
        g_key_file_set_integer(kf, "transaction", "pid", (int)getpid());
        g_key_file_set_integer(kf, "transaction", "devices", (int)j->devices->len);
        g_key_file_set_integer(kf, "transaction", "steps", (int)j->steps->len);
        if (j->kind == HD_TX_SRIOV) {
                g_key_file_set_integer(kf, "sriov", "numvfs", j->sriov_numvfs);
                g_key_file_set_integer(kf, "sriov", "autoprobe", j->sriov_autoprobe);
        }
        for (guint i = 0; i < j->devices->len; i++) {
                HdJournalDevice *d = j->devices->pdata[i];
                g_autofree char *grp = g_strdup_printf("device %u", i);

                g_key_file_set_string(kf, grp, "address", d->name);
                g_key_file_set_integer(kf, grp, "iommu_group", d->group);
                set_optional(kf, grp, "original_driver", d->original_driver);
                set_optional(kf, grp, "original_override", d->original_override);
                set_optional(kf, grp, "target_driver", d->target_driver);
        }
        for (guint i = 0; i < j->steps->len; i++) {
                HdJournalStep *s = j->steps->pdata[i];
                g_autofree char *grp = g_strdup_printf("step %u", i);
                g_autofree char *value = g_strescape(s->value ? s->value : "", NULL);

                g_key_file_set_string(kf, grp, "path", s->path);
                g_key_file_set_string(kf, grp, "value", value);
                g_key_file_set_boolean(kf, grp, "done", s->done);
        }
        data = g_key_file_to_data(kf, NULL, NULL);
        if (!hd_mkdir_p_at(root_fd, JOURNAL_DIR, 0700, error) ||
            !hd_write_file_atomic_at(root_fd, j->file, data, -1, error))
                return FALSE;
        (void)sync_dir(root_fd, JOURNAL_DIR);
        return TRUE;
}

static gboolean journal_remove(HdJournal *j, GError **error)
{
        int root_fd = hd_ctx_get_root_fd(j->ctx);

        if (hd_ctx_get_dry_run(j->ctx))
                return TRUE;
        if (!hd_unlink_at(root_fd, j->file, 0) && errno != ENOENT) {
                int err = errno;
                g_set_error(error, HD_ERROR, HD_ERROR_FAILED, "cannot remove journal /%s: %s",
                            j->file, g_strerror(err));
                return FALSE;
        }
        (void)sync_dir(root_fd, JOURNAL_DIR);
        return TRUE;
}

static char *get_optional(GKeyFile *kf, const char *group, const char *key)
{
        return g_key_file_get_string(kf, group, key, NULL);
}

/* A count or number read from a journal: an integer in [@min, @max], else FALSE. */
static gboolean get_bounded_int(GKeyFile *kf, const char *group, const char *key, int min,
                                int max, int *out)
{
        g_autoptr(GError) error = NULL;
        int v = g_key_file_get_integer(kf, group, key, &error);

        if (error || v < min || v > max)
                return FALSE;
        *out = v;
        return TRUE;
}

static HdJournal *unparseable(GError **error, const char *file, const char *what)
{
        g_set_error(error, HD_ERROR, HD_ERROR_FAILED, "journal /%s %s", file, what);
        return NULL;
}

/* Load the journal file @name; NULL without an error when it vanished (finished meanwhile),
 * NULL with an error when it is not a journal this version wrote (J5). */
static HdJournal *journal_load(HdCtx *ctx, const char *name, GError **error)
{
        g_autoptr(HdJournal) j = hd_journal_new(ctx, HD_TX_DETACH);
        g_autoptr(GKeyFile) kf = g_key_file_new();
        g_autoptr(GError) local = NULL;
        g_autofree char *file = g_strdup_printf(JOURNAL_DIR "/%s", name);
        g_autofree char *data = NULL;
        g_autofree char *op = NULL;
        gsize n_groups = 0;
        g_auto(GStrv) groups = NULL;
        int n_devices, n_steps;

        data = hd_read_file_at(hd_ctx_get_root_fd(ctx), file, HD_JOURNAL_MAX_BYTES, &local);
        if (!data) {
                if (g_error_matches(local, G_IO_ERROR, G_IO_ERROR_NOT_FOUND))
                        return NULL;
                return unparseable(error, file, local ? local->message : "cannot be read");
        }
        if (!g_key_file_load_from_data(kf, data, -1, G_KEY_FILE_NONE, &local))
                return unparseable(error, file, local->message);
        op = g_key_file_get_string(kf, "transaction", "operation", NULL);
        if (!tx_kind_from_string(op, &j->kind))
                return unparseable(error, file, "names no operation");
        g_free(j->id);
        j->id = g_strdup(name);
        g_free(j->file);
        j->file = g_strdup(file);
        g_free(j->state);
        j->state = g_key_file_get_string(kf, "transaction", "state", NULL);
        if (!j->state)
                j->state = g_strdup("writing");
        /* Every count is bounded by a sane maximum and by what the file holds (one group per
         * device and per step): a 70-byte file claiming 2e9 steps is not a journal. */
        groups = g_key_file_get_groups(kf, &n_groups);
        if (!get_bounded_int(kf, "transaction", "devices", 0, HD_JOURNAL_MAX_DEVICES,
                             &n_devices) ||
            !get_bounded_int(kf, "transaction", "steps", 0, HD_JOURNAL_MAX_STEPS, &n_steps) ||
            (gsize)n_devices + (gsize)n_steps >= n_groups)
                return unparseable(error, file,
                                   "has device or step counts that do not match its contents");
        for (int i = 0; i < n_devices; i++) {
                g_autofree char *grp = g_strdup_printf("device %d", i);
                g_autofree char *addr = g_key_file_get_string(kf, grp, "address", NULL);
                g_autofree char *drv = get_optional(kf, grp, "original_driver");
                g_autofree char *ov = get_optional(kf, grp, "original_override");
                g_autofree char *target = get_optional(kf, grp, "target_driver");
                HdAddress a;
                int group;

                /* The journal lives below the root and could be edited: addresses and
                 * driver names become paths only after checking, like any other input. */
                if (!addr || !hd_address_parse_sysfs_name(addr, &a) ||
                    (drv && !hd_driver_name_is_valid(drv)) ||
                    (target && !hd_driver_name_is_valid(target)) ||
                    !get_bounded_int(kf, grp, "iommu_group", -1, G_MAXINT, &group)) {
                        g_autofree char *what = g_strdup_printf("has a bad device entry %d", i);
                        return unparseable(error, file, what);
                }
                hd_journal_add_device(j, addr, group, drv, ov, target);
        }
        for (int i = 0; i < n_steps; i++) {
                g_autofree char *grp = g_strdup_printf("step %d", i);
                g_autofree char *path = g_key_file_get_string(kf, grp, "path", NULL);
                g_autofree char *value = g_key_file_get_string(kf, grp, "value", NULL);
                g_autofree char *raw = value ? g_strcompress(value) : NULL;

                if (!g_key_file_has_group(kf, grp)) {
                        g_autofree char *what = g_strdup_printf("lacks step %d", i);
                        return unparseable(error, file, what);
                }
                hd_journal_add_step(j, path ? path : "", raw ? raw : "");
                ((HdJournalStep *)j->steps->pdata[j->steps->len - 1])->done =
                        g_key_file_get_boolean(kf, grp, "done", NULL);
        }
        if (j->kind == HD_TX_SRIOV &&
            (j->devices->len != 1 ||
             !get_bounded_int(kf, "sriov", "numvfs", 0, 65535, &j->sriov_numvfs) ||
             !get_bounded_int(kf, "sriov", "autoprobe", -1, 1, &j->sriov_autoprobe)))
                return unparseable(error, file, "has a bad sriov entry");
        return g_steal_pointer(&j);
}

gboolean hd_journal_begin(HdJournal *j, GError **error)
{
        g_free(j->state);
        j->state = g_strdup("writing");
        return journal_save(j, error);
}

gboolean hd_journal_step_done(HdJournal *j, guint index, GError **error)
{
        g_return_val_if_fail(index < j->steps->len, FALSE);
        ((HdJournalStep *)j->steps->pdata[index])->done = TRUE;
        return journal_save(j, error);
}

/* The bookkeeping of a finished transaction; idempotent, so a crash in the middle of it is
 * finished by recovery. */
static gboolean finish_commit(HdJournal *j, GError **error)
{
        for (guint i = 0; i < j->devices->len; i++) {
                HdJournalDevice *d = j->devices->pdata[i];

                if (j->kind == HD_TX_DETACH) {
                        /* Keep the first origin: a device detached twice came from the host
                         * driver, not from vfio-pci. */
                        if (!hd_journal_get_origin(j->ctx, d->name, NULL, NULL) &&
                            !hd_journal_set_origin(j->ctx, d->name, d->original_driver,
                                                   d->original_override, error))
                                return FALSE;
                } else if (!hd_journal_clear_origin(j->ctx, d->name, error)) {
                        return FALSE;
                }
        }
        return journal_remove(j, error);
}

gboolean hd_journal_commit(HdJournal *j, GError **error)
{
        g_free(j->state);
        j->state = g_strdup("committing");
        if (!journal_save(j, error))
                return FALSE;
        return finish_commit(j, error);
}

/* ---------------------------------------------------------------- restoring a device */

static HdDevice *load_driver_state(HdCtx *ctx, const char *name, GError **error)
{
        HdAddress a;

        if (!hd_address_parse(name, &a, error))
                return NULL;
        return hd_device_load(ctx, &a, HD_FIELD_DRIVER, error);
}

static gboolean write_driver_file(HdCtx *ctx, const char *driver, const char *file,
                                  const char *name, GError **error)
{
        g_autofree char *path = g_strdup_printf("sys/bus/pci/drivers/%s/%s", driver, file);

        return hd_ctx_write(ctx, path, name, error);
}

gboolean hd_journal_restore_device(HdCtx *ctx, const char *name, const char *driver,
                                   const char *override, GError **error)
{
        g_autoptr(HdDevice) dev = load_driver_state(ctx, name, error);
        g_autofree char *ov_path = NULL;
        g_autofree char *dpath = NULL;

        if (!dev)
                return FALSE;
        ov_path = hd_device_attr_path(&dev->address, "driver_override");
        /* Each step checks first, so running this twice (a crash during rollback) is safe. */
        if (g_strcmp0(dev->driver_override, override) != 0 &&
            !hd_ctx_write(ctx, ov_path, override ? override : "\n", error))
                return FALSE;
        if (g_strcmp0(dev->driver, driver) == 0)
                return TRUE;
        if (dev->driver && !write_driver_file(ctx, dev->driver, "unbind", name, error))
                return FALSE;
        if (!driver)
                return TRUE; /* it had none: unbound is where it was */
        if (!hd_ctx_write(ctx, "sys/bus/pci/drivers_probe", name, error))
                return FALSE;
        if (hd_ctx_get_dry_run(ctx))
                return TRUE;
        hd_device_free(g_steal_pointer(&dev));
        if (!(dev = load_driver_state(ctx, name, error)))
                return FALSE;
        if (g_strcmp0(dev->driver, driver) == 0)
                return TRUE;
        /* The probe chose another driver (or none, or failed): bind the original directly,
         * loading its module if it went away. */
        if (dev->driver && !write_driver_file(ctx, dev->driver, "unbind", name, error))
                return FALSE;
        dpath = g_strdup_printf("sys/bus/pci/drivers/%s", driver);
        if (!hd_exists_at(hd_ctx_get_root_fd(ctx), dpath, FALSE) &&
            !hd_ctx_load_module(ctx, driver, error))
                return FALSE;
        if (!write_driver_file(ctx, driver, "bind", name, error))
                return FALSE;
        hd_device_free(g_steal_pointer(&dev));
        if (!(dev = load_driver_state(ctx, name, error)))
                return FALSE;
        if (g_strcmp0(dev->driver, driver) != 0) {
                g_set_error(error, HD_ERROR, HD_ERROR_FAILED,
                            "%s did not return to %s (it is on %s); run hostdev recover again "
                            "or bind it by hand: echo %s > /sys/bus/pci/drivers/%s/bind",
                            name, driver, dev->driver ? dev->driver : "no driver", name, driver);
                return FALSE;
        }
        return TRUE;
}

/* A PF's SR-IOV attribute as a number; -1 when absent or garbled. */
static int sriov_attr(HdCtx *ctx, const char *pf, const char *name)
{
        g_autofree char *path = g_strdup_printf("sys/bus/pci/devices/%s/%s", pf, name);
        g_autofree char *text = hd_read_attr_optional_at(hd_ctx_get_root_fd(ctx), path);
        gint64 v;

        return text && hd_parse_int(g_strstrip(text), 0, 65535, &v) ? (int)v : -1;
}

gboolean hd_journal_restore_sriov(HdCtx *ctx, const char *pf, int numvfs, int autoprobe,
                                  guint timeout_ms, GError **error)
{
        g_autofree char *count_path = g_strdup_printf("sys/bus/pci/devices/%s/sriov_numvfs", pf);
        g_autofree char *probe_path =
                g_strdup_printf("sys/bus/pci/devices/%s/sriov_drivers_autoprobe", pf);
        g_autofree char *count = g_strdup_printf("%d", numvfs);
        int cur;

        /* a count write still waiting holds the lock a read of the count takes (ctx.h) */
        if (hd_ctx_write_is_pending(ctx, count_path)) {
                g_set_error(error, HD_ERROR, HD_ERROR_BUSY,
                            "%s: the kernel is still removing its VFs (a VF's user has not let "
                            "go yet); run hostdev recover again once it has",
                            pf);
                return FALSE;
        }
        cur = sriov_attr(ctx, pf, "sriov_numvfs");
        if (cur < 0) {
                g_set_error(error, HD_ERROR, HD_ERROR_NOT_FOUND,
                            "%s has no sriov_numvfs to restore %d VFs to; is it still there? "
                            "(hostdev sriov %s)", pf, numvfs, pf);
                return FALSE;
        }
        /* autoprobe first: the VFs created below are probed (or not) as they were */
        if (autoprobe >= 0 && sriov_attr(ctx, pf, "sriov_drivers_autoprobe") != autoprobe &&
            !hd_ctx_write(ctx, probe_path, autoprobe ? "1" : "0", error))
                return FALSE;
        if (cur == numvfs)
                return TRUE;
        if (cur > 0 && !hd_ctx_write_bounded(ctx, count_path, "0", timeout_ms, error))
                return FALSE;
        if (numvfs > 0 && !hd_ctx_write_bounded(ctx, count_path, count, timeout_ms, error))
                return FALSE;
        if (!hd_ctx_get_dry_run(ctx) && sriov_attr(ctx, pf, "sriov_numvfs") != numvfs) {
                g_set_error(error, HD_ERROR, HD_ERROR_FAILED,
                            "%s did not return to %d VFs (it has %d); run hostdev recover "
                            "again, or: hostdev sriov %s --numvfs %d",
                            pf, numvfs, sriov_attr(ctx, pf, "sriov_numvfs"), pf, numvfs);
                return FALSE;
        }
        return TRUE;
}

gboolean hd_journal_rollback(HdJournal *j, GError **error)
{
        g_autoptr(GString) failures = g_string_new(NULL);

        g_free(j->state);
        j->state = g_strdup("rolling-back");
        if (!journal_save(j, error))
                return FALSE;
        if (j->kind == HD_TX_SRIOV) {
                HdJournalDevice *pf = j->devices->pdata[0];
                g_autoptr(GError) local = NULL;

                hd_ctx_log(j->ctx, HD_LOG_INFO, "%s %s to %d VFs",
                           hd_ctx_get_dry_run(j->ctx) ? "would roll back" : "rolling back",
                           pf->name, j->sriov_numvfs);
                if (!hd_journal_restore_sriov(j->ctx, pf->name, j->sriov_numvfs,
                                              j->sriov_autoprobe, HD_SRIOV_WRITE_TIMEOUT_MS,
                                              &local))
                        g_string_append(failures, local->message);
        }
        for (guint i = j->kind == HD_TX_SRIOV ? 0 : j->devices->len; i > 0; i--) {
                HdJournalDevice *d = j->devices->pdata[i - 1];
                g_autoptr(GError) local = NULL;

                hd_ctx_log(j->ctx, HD_LOG_INFO, "%s %s to %s",
                           hd_ctx_get_dry_run(j->ctx) ? "would roll back" : "rolling back", d->name,
                           d->original_driver ? d->original_driver : "no driver");
                if (!hd_journal_restore_device(j->ctx, d->name, d->original_driver,
                                               d->original_override, &local))
                        g_string_append_printf(failures, "%s%s", failures->len ? "; " : "",
                                               local->message);
        }
        if (failures->len) {
                g_set_error(error, HD_ERROR, HD_ERROR_FAILED,
                            "rollback incomplete: %s (the journal /%s stays for hostdev recover)",
                            failures->str, j->file);
                return FALSE;
        }
        return journal_remove(j, error);
}

/* ---------------------------------------------------------------- hostile files */

gboolean hd_quarantine_file(HdCtx *ctx, const char *dir, const char *name, const char *why)
{
        int root_fd = hd_ctx_get_root_fd(ctx);
        g_autofree char *qdir = g_strdup_printf("%s/quarantine", dir);
        g_autofree char *from = g_strdup_printf("%s/%s", dir, name);
        g_autofree char *to = g_strdup_printf("%s/%s.%" G_GINT64_FORMAT, qdir, name,
                                              g_get_real_time());
        g_autoptr(GError) error = NULL;

        g_return_val_if_fail(!strchr(name, '/') && strcmp(name, "..") != 0, FALSE);
        if (hd_ctx_get_dry_run(ctx)) {
                /* a dry run changes nothing, this included */
                hd_ctx_log(ctx, HD_LOG_WARNING, "/%s would be quarantined by a real run: %s",
                           from, why);
                return FALSE;
        }
        if (!hd_mkdir_p_at(root_fd, qdir, 0700, &error)) {
                hd_ctx_log(ctx, HD_LOG_WARNING, "cannot quarantine /%s (%s): %s", from, why,
                           error->message);
                return FALSE;
        }
        if (!hd_rename_at(root_fd, from, to)) {
                int err = errno;
                hd_ctx_log(ctx, HD_LOG_WARNING, "cannot quarantine /%s (%s): %s", from, why,
                           g_strerror(err));
                return FALSE;
        }
        (void)sync_dir(root_fd, dir);
        hd_ctx_log(ctx, HD_LOG_WARNING,
                   "moved /%s to /%s: %s; it is no longer read (inspect it, then delete it)",
                   from, to, why);
        return TRUE;
}

/* ---------------------------------------------------------------- recovery */

static gint compare_names(gconstpointer a, gconstpointer b)
{
        return strcmp(*(const char *const *)a, *(const char *const *)b);
}

guint hd_journal_count_pending(HdCtx *ctx)
{
        g_autoptr(GPtrArray) names = hd_list_dir_at(hd_ctx_get_root_fd(ctx), JOURNAL_DIR, NULL);
        guint n = 0;

        for (guint i = 0; names && i < names->len; i++)
                if (!strstr(names->pdata[i], ".tmp.") &&
                    strcmp(names->pdata[i], QUARANTINE_NAME) != 0)
                        n++;
        return n;
}

/* "<name>.tmp.<n>.<pid>": the temporary file of an atomic write. Remove it only when its writer is
 * gone (a crash between write and rename); a live writer is about to rename it. */
static void remove_stale_temp(HdCtx *ctx, const char *name)
{
        const char *pid_text = strrchr(name, '.');
        g_autofree char *path = g_strdup_printf(JOURNAL_DIR "/%s", name);
        gint64 pid;

        if (!pid_text || !hd_parse_int(pid_text + 1, 1, G_MAXINT, &pid) ||
            hd_ctx_get_dry_run(ctx))
                return;
        if (kill((pid_t)pid, 0) < 0 && errno == ESRCH)
                (void)hd_unlink_at(hd_ctx_get_root_fd(ctx), path, 0);
}

/* The pid of a live process holding the lock of one of @groups, 0 when none. */
static int groups_in_progress(HdCtx *ctx, GArray *groups)
{
        for (guint i = 0; i < groups->len; i++) {
                int g = g_array_index(groups, int, i);
                int pid = g >= 0 ? hd_group_lock_holder(ctx, g) : 0;
                if (pid)
                        return pid;
        }
        return 0;
}

static const char *const pending_action_names[] = {
        [HD_PENDING_ROLL_BACK] = "roll-back",
        [HD_PENDING_FINISH] = "finish",
        [HD_PENDING_QUARANTINE] = "quarantine",
        [HD_PENDING_IN_PROGRESS] = "in-progress",
};

const char *hd_pending_action_to_string(HdPendingAction action)
{
        return (guint)action < G_N_ELEMENTS(pending_action_names) ? pending_action_names[action]
                                                                   : "unknown";
}

void hd_pending_op_free(HdPendingOp *op)
{
        if (!op)
                return;
        g_free(op->file);
        g_free(op->operation);
        g_free(op->state);
        g_free(op->why);
        g_array_unref(op->groups);
        g_ptr_array_unref(op->devices);
        g_free(op);
}

GPtrArray *hd_journal_list_pending(HdCtx *ctx)
{
        int root_fd = hd_ctx_get_root_fd(ctx);
        g_autoptr(GPtrArray) names = hd_list_dir_at(root_fd, JOURNAL_DIR, NULL);
        GPtrArray *out = g_ptr_array_new_with_free_func((GDestroyNotify)hd_pending_op_free);

        if (names)
                g_ptr_array_sort(names, compare_names);
        for (guint i = 0; names && i < names->len; i++) {
                const char *name = names->pdata[i];
                g_autofree char *path = g_strdup_printf(JOURNAL_DIR "/%s", name);
                g_autoptr(GError) local = NULL;
                g_autoptr(HdJournal) j = NULL;
                HdPendingOp *op;
                struct stat st;

                if (strcmp(name, QUARANTINE_NAME) == 0 || strstr(name, ".tmp.") ||
                    !hd_stat_at(root_fd, path, TRUE, &st))
                        continue;
                op = g_new0(HdPendingOp, 1);
                op->file = g_steal_pointer(&path);
                op->groups = g_array_new(FALSE, FALSE, sizeof(int));
                op->devices = g_ptr_array_new_with_free_func(device_free);
                g_ptr_array_add(out, op);
                if (!S_ISREG(st.st_mode)) {
                        op->action = HD_PENDING_QUARANTINE;
                        op->why = g_strdup("not a regular file, so not a journal");
                        continue;
                }
                j = journal_load(ctx, name, &local);
                if (!j) {
                        op->action = HD_PENDING_QUARANTINE;
                        op->why = g_strdup(local ? local->message : "vanished");
                        continue;
                }
                op->operation = g_strdup(hd_tx_kind_to_string(j->kind));
                op->state = g_strdup(j->state);
                for (guint k = 0; k < j->devices->len; k++) {
                        HdJournalDevice *d = j->devices->pdata[k];
                        gboolean seen = FALSE;

                        for (guint m = 0; m < op->groups->len; m++)
                                seen = seen || g_array_index(op->groups, int, m) == d->group;
                        if (!seen)
                                g_array_append_val(op->groups, d->group);
                }
                g_ptr_array_extend_and_steal(op->devices, g_steal_pointer(&j->devices));
                j->devices = g_ptr_array_new_with_free_func(device_free);
                op->pid = groups_in_progress(ctx, op->groups);
                op->action = op->pid                                  ? HD_PENDING_IN_PROGRESS
                             : g_strcmp0(op->state, "committing") == 0 ? HD_PENDING_FINISH
                                                                       : HD_PENDING_ROLL_BACK;
        }
        return out;
}

/* A journal that is still there after recovery: it could not be rolled back (yet). */
typedef struct {
        char *file;    /* below the root */
        GArray *groups; /* int: the IOMMU groups of its devices */
        char *why;
} Stuck;

static void stuck_free(gpointer p)
{
        Stuck *st = p;

        g_free(st->file);
        g_array_unref(st->groups);
        g_free(st->why);
        g_free(st);
}

static void add_stuck(GPtrArray *stuck, const char *file, GArray *groups, GError **local)
{
        Stuck *st = g_new0(Stuck, 1);

        st->file = g_strdup(file);
        st->groups = g_array_ref(groups);
        st->why = g_strdup((*local)->message);
        g_clear_error(local);
        g_ptr_array_add(stuck, st);
}

/* Every journal below the root: recovered, left to its live owner, quarantined when it is not
 * a journal (J5), or added to @stuck when it cannot be recovered now. */
static void recover_all(HdCtx *ctx, guint *n_recovered, GPtrArray *stuck)
{
        int root_fd = hd_ctx_get_root_fd(ctx);
        g_autoptr(GPtrArray) names = hd_list_dir_at(root_fd, JOURNAL_DIR, NULL);
        guint n = 0;

        for (guint i = 0; names && i < names->len; i++) {
                const char *name = names->pdata[i];
                g_autofree char *path = g_strdup_printf(JOURNAL_DIR "/%s", name);
                g_autoptr(HdJournal) j = NULL;
                g_autoptr(HdGroupLocks) locks = NULL;
                g_autoptr(GArray) groups = g_array_new(FALSE, FALSE, sizeof(int));
                g_autoptr(GError) local = NULL;
                g_autoptr(HdJournal) again = NULL;
                struct stat st;
                gboolean ok;

                if (strcmp(name, QUARANTINE_NAME) == 0)
                        continue;
                if (!hd_stat_at(root_fd, path, TRUE, &st))
                        continue; /* gone meanwhile */
                if (!S_ISREG(st.st_mode)) {
                        /* never opened: a FIFO would block, a link could lead anywhere */
                        (void)hd_quarantine_file(ctx, JOURNAL_DIR, name,
                                                 "not a regular file, so not a journal");
                        continue;
                }
                if (strstr(name, ".tmp.")) {
                        remove_stale_temp(ctx, name);
                        continue;
                }
                j = journal_load(ctx, name, &local);
                if (!j) {
                        if (local)
                                (void)hd_quarantine_file(ctx, JOURNAL_DIR, name, local->message);
                        continue;
                }
                for (guint k = 0; k < j->devices->len; k++)
                        g_array_append_val(groups,
                                           ((HdJournalDevice *)j->devices->pdata[k])->group);
                if (hd_ctx_get_dry_run(ctx)) {
                        /* no lock taken, nothing written: only ask whether a live process
                         * runs it, then say what recovery would write */
                        if (groups_in_progress(ctx, groups)) {
                                hd_ctx_log(ctx, HD_LOG_INFO, "journal %s: in progress", name);
                                continue;
                        }
                        again = g_steal_pointer(&j);
                        goto recover;
                }
                locks = hd_group_locks_acquire(ctx, groups, &local);
                if (!locks) {
                        if (g_error_matches(local, HD_ERROR, HD_ERROR_BUSY)) {
                                /* A live process owns it: not interrupted. */
                                hd_ctx_log(ctx, HD_LOG_INFO, "journal %s: in progress (%s)", name,
                                           local->message);
                                continue;
                        }
                        add_stuck(stuck, path, groups, &local);
                        continue;
                }
                /* Reread under the lock: its owner may have finished meanwhile. */
                again = journal_load(ctx, name, &local);
                if (!again) {
                        if (local)
                                (void)hd_quarantine_file(ctx, JOURNAL_DIR, name, local->message);
                        continue;
                }
        recover:
                hd_ctx_log(ctx, HD_LOG_INFO, "%s interrupted %s (%s, state %s)",
                           hd_ctx_get_dry_run(ctx) ? "a real run would recover" : "recovering",
                           hd_tx_kind_to_string(again->kind), name, again->state);
                /* One transaction that cannot be recovered does not stop the others. */
                ok = g_strcmp0(again->state, "committing") == 0
                             ? finish_commit(again, &local)
                             : hd_journal_rollback(again, &local);
                if (!ok) {
                        add_stuck(stuck, path, groups, &local);
                        continue;
                }
                n++;
        }
        if (n_recovered)
                *n_recovered = n;
}

gboolean hd_journal_recover(HdCtx *ctx, guint *n_recovered, GError **error)
{
        g_autoptr(GPtrArray) stuck = g_ptr_array_new_with_free_func(stuck_free);
        g_autoptr(GString) failures = g_string_new(NULL);

        recover_all(ctx, n_recovered, stuck);
        for (guint i = 0; i < stuck->len; i++)
                g_string_append_printf(failures, "%s%s", failures->len ? "; " : "",
                                       ((Stuck *)stuck->pdata[i])->why);
        if (failures->len) {
                g_set_error(error, HD_ERROR, HD_ERROR_FAILED,
                            "cannot recover an interrupted operation: %s", failures->str);
                return FALSE;
        }
        return TRUE;
}

static gboolean names_group(const Stuck *st, int group)
{
        for (guint i = 0; i < st->groups->len; i++)
                if (g_array_index(st->groups, int, i) == group)
                        return TRUE;
        return FALSE;
}

gboolean hd_journal_recover_for(HdCtx *ctx, GArray *groups, guint *n_recovered, GError **error)
{
        g_autoptr(GPtrArray) stuck = g_ptr_array_new_with_free_func(stuck_free);
        g_autoptr(GString) refusal = g_string_new(NULL);

        recover_all(ctx, n_recovered, stuck);
        for (guint i = 0; i < stuck->len; i++) {
                const Stuck *st = stuck->pdata[i];
                int hit = -2;

                for (guint k = 0; k < groups->len && hit == -2; k++) {
                        int g = g_array_index(groups, int, k);
                        if (g >= 0 && names_group(st, g))
                                hit = g;
                }
                if (hit == -2) {
                        hd_ctx_log(ctx, HD_LOG_WARNING,
                                   "an interrupted operation on other IOMMU groups could not be "
                                   "undone yet (/%s: %s); run hostdev recover",
                                   st->file, st->why);
                        continue;
                }
                g_string_append_printf(
                        refusal,
                        "%sIOMMU group %d has an interrupted operation that could not be undone "
                        "yet (journal /%s: %s); run hostdev recover, which retries it and says "
                        "what is in the way, then try again",
                        refusal->len ? "\n" : "", hit, st->file, st->why);
        }
        if (refusal->len) {
                g_set_error_literal(error, HD_ERROR, HD_ERROR_BUSY, refusal->str);
                return FALSE;
        }
        return TRUE;
}

/* ---------------------------------------------------------------- origins */

/* The origins as a key file. One that cannot be read or parsed (too large, not a key file) is
 * quarantined rather than taken as empty and overwritten by the next detach (J5): the origins
 * it holds stay there for a human. */
static GKeyFile *origins_load(HdCtx *ctx)
{
        GKeyFile *kf = g_key_file_new();
        g_autoptr(GError) error = NULL;
        g_autofree char *data = NULL;
        struct stat st;

        if (!hd_stat_at(hd_ctx_get_root_fd(ctx), ORIGINS_FILE, TRUE, &st))
                return kf;
        if (!S_ISREG(st.st_mode)) /* never opened: a FIFO would block */
                g_set_error_literal(&error, HD_ERROR, HD_ERROR_FAILED, "not a regular file");
        else
                data = hd_read_file_at(hd_ctx_get_root_fd(ctx), ORIGINS_FILE,
                                       HD_JOURNAL_MAX_BYTES, &error);
        if (!data && g_error_matches(error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND))
                return kf;
        if (data && g_key_file_load_from_data(kf, data, -1, G_KEY_FILE_NONE, &error))
                return kf;
        {
                g_autofree char *why = g_strdup_printf(
                        "the origins of detached devices are unreadable (%s); attach gives "
                        "such devices to the kernel's choice of driver",
                        error ? error->message : "unknown error");
                (void)hd_quarantine_file(ctx, "var/lib/hostdev", "origins", why);
        }
        g_key_file_unref(kf);
        return g_key_file_new();
}

static gboolean origins_save(HdCtx *ctx, GKeyFile *kf, GError **error)
{
        g_autofree char *data = g_key_file_to_data(kf, NULL, NULL);
        int root_fd = hd_ctx_get_root_fd(ctx);

        return hd_mkdir_p_at(root_fd, "var/lib/hostdev", 0755, error) &&
               hd_write_file_atomic_at(root_fd, ORIGINS_FILE, data, -1, error);
}

/* The origins file is shared by every transaction, whatever its group: transactions on
 * different groups run at the same time (the agent, the CLI next to it), so its
 * read-modify-write happens under a lock file, or one transaction's origin would be lost. */
static int origins_lock(HdCtx *ctx, GError **error)
{
        int root_fd = hd_ctx_get_root_fd(ctx);

        if (!hd_mkdir_p_at(root_fd, "var/lib/hostdev", 0755, error))
                return -1;
        return hd_lock_file_at(root_fd, ORIGINS_LOCK, error);
}

gboolean hd_journal_set_origin(HdCtx *ctx, const char *name, const char *driver,
                               const char *override, GError **error)
{
        hd_autofd int lock = -1;
        g_autoptr(GKeyFile) kf = NULL;

        if (hd_ctx_get_dry_run(ctx))
                return TRUE;
        lock = origins_lock(ctx, error);
        if (lock < 0)
                return FALSE;
        kf = origins_load(ctx);

        g_key_file_remove_group(kf, name, NULL);
        g_key_file_set_string(kf, name, "driver", driver ? driver : "");
        g_key_file_set_string(kf, name, "driver_override", override ? override : "");
        return origins_save(ctx, kf, error);
}

gboolean hd_journal_get_origin(HdCtx *ctx, const char *name, char **driver, char **override)
{
        g_autoptr(GKeyFile) kf = origins_load(ctx);
        g_autofree char *drv = NULL;
        g_autofree char *ov = NULL;

        if (!g_key_file_has_group(kf, name))
                return FALSE;
        drv = g_key_file_get_string(kf, name, "driver", NULL);
        ov = g_key_file_get_string(kf, name, "driver_override", NULL);
        /* An origin that is not a driver name is no origin (the file could be edited). */
        if (drv && *drv && !hd_driver_name_is_valid(drv))
                return FALSE;
        if (driver)
                *driver = drv && *drv ? g_steal_pointer(&drv) : NULL;
        if (override)
                *override = ov && *ov ? g_steal_pointer(&ov) : NULL;
        return TRUE;
}

gboolean hd_journal_clear_origin(HdCtx *ctx, const char *name, GError **error)
{
        hd_autofd int lock = -1;
        g_autoptr(GKeyFile) kf = NULL;

        if (hd_ctx_get_dry_run(ctx))
                return TRUE;
        kf = origins_load(ctx);
        if (!g_key_file_has_group(kf, name))
                return TRUE;
        lock = origins_lock(ctx, error);
        if (lock < 0)
                return FALSE;
        g_clear_pointer(&kf, g_key_file_unref);
        kf = origins_load(ctx); /* again, under the lock */
        if (!g_key_file_has_group(kf, name))
                return TRUE;
        g_key_file_remove_group(kf, name, NULL);
        return origins_save(ctx, kf, error);
}
