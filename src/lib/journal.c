/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "device.h"
#include "fileio.h"
#include "hd-error.h"
#include "journal.h"
#include "lock.h"
#include "macros.h"
#include "parse.h"

#define JOURNAL_DIR "var/lib/hostdev/journal"
#define ORIGINS_FILE "var/lib/hostdev/origins"
#define ORIGINS_LOCK "var/lib/hostdev/origins.lock"

const char *hd_tx_kind_to_string(HdTxKind kind)
{
        return kind == HD_TX_ATTACH ? "attach" : "detach";
}

static gboolean tx_kind_from_string(const char *s, HdTxKind *out)
{
        if (g_strcmp0(s, "detach") == 0)
                *out = HD_TX_DETACH;
        else if (g_strcmp0(s, "attach") == 0)
                *out = HD_TX_ATTACH;
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

        g_key_file_set_string(kf, "transaction", "id", j->id);
        g_key_file_set_string(kf, "transaction", "operation", hd_tx_kind_to_string(j->kind));
        g_key_file_set_string(kf, "transaction", "state", j->state);
        g_key_file_set_integer(kf, "transaction", "pid", (int)getpid());
        g_key_file_set_integer(kf, "transaction", "devices", (int)j->devices->len);
        g_key_file_set_integer(kf, "transaction", "steps", (int)j->steps->len);
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

/* Load the journal file @name; NULL when it vanished (finished meanwhile) or is unreadable. */
static HdJournal *journal_load(HdCtx *ctx, const char *name, GError **error)
{
        g_autoptr(HdJournal) j = hd_journal_new(ctx, HD_TX_DETACH);
        g_autoptr(GKeyFile) kf = g_key_file_new();
        g_autofree char *file = g_strdup_printf(JOURNAL_DIR "/%s", name);
        g_autofree char *data = hd_read_file_at(hd_ctx_get_root_fd(ctx), file, 1 << 20, NULL);
        g_autofree char *op = NULL;
        int n_devices, n_steps;

        if (!data)
                return NULL;
        if (!g_key_file_load_from_data(kf, data, -1, G_KEY_FILE_NONE, error))
                return NULL;
        op = g_key_file_get_string(kf, "transaction", "operation", NULL);
        if (!tx_kind_from_string(op, &j->kind)) {
                g_set_error(error, HD_ERROR, HD_ERROR_FAILED,
                            "journal /%s names no operation; inspect it and remove it by hand",
                            file);
                return NULL;
        }
        g_free(j->id);
        j->id = g_strdup(name);
        g_free(j->file);
        j->file = g_steal_pointer(&file);
        g_free(j->state);
        j->state = g_key_file_get_string(kf, "transaction", "state", NULL);
        if (!j->state)
                j->state = g_strdup("writing");
        n_devices = g_key_file_get_integer(kf, "transaction", "devices", NULL);
        n_steps = g_key_file_get_integer(kf, "transaction", "steps", NULL);
        for (int i = 0; i < n_devices; i++) {
                g_autofree char *grp = g_strdup_printf("device %d", i);
                g_autofree char *addr = g_key_file_get_string(kf, grp, "address", NULL);
                g_autofree char *drv = get_optional(kf, grp, "original_driver");
                g_autofree char *ov = get_optional(kf, grp, "original_override");
                g_autofree char *target = get_optional(kf, grp, "target_driver");
                HdAddress a;

                /* The journal lives below the root and could be edited: addresses and
                 * driver names become paths only after checking, like any other input. */
                if (!addr || !hd_address_parse_sysfs_name(addr, &a) ||
                    (drv && !hd_driver_name_is_valid(drv)) ||
                    (target && !hd_driver_name_is_valid(target))) {
                        g_set_error(error, HD_ERROR, HD_ERROR_FAILED,
                                    "journal /%s has a bad device entry %d; inspect it and remove "
                                    "it by hand",
                                    j->file, i);
                        return NULL;
                }
                hd_journal_add_device(j, addr,
                                      g_key_file_get_integer(kf, grp, "iommu_group", NULL), drv,
                                      ov, target);
        }
        for (int i = 0; i < n_steps; i++) {
                g_autofree char *grp = g_strdup_printf("step %d", i);
                g_autofree char *path = g_key_file_get_string(kf, grp, "path", NULL);
                g_autofree char *value = g_key_file_get_string(kf, grp, "value", NULL);
                g_autofree char *raw = value ? g_strcompress(value) : NULL;

                hd_journal_add_step(j, path ? path : "", raw ? raw : "");
                ((HdJournalStep *)j->steps->pdata[j->steps->len - 1])->done =
                        g_key_file_get_boolean(kf, grp, "done", NULL);
        }
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

gboolean hd_journal_rollback(HdJournal *j, GError **error)
{
        g_autoptr(GString) failures = g_string_new(NULL);

        g_free(j->state);
        j->state = g_strdup("rolling-back");
        if (!journal_save(j, error))
                return FALSE;
        for (guint i = j->devices->len; i > 0; i--) {
                HdJournalDevice *d = j->devices->pdata[i - 1];
                g_autoptr(GError) local = NULL;

                hd_ctx_log(j->ctx, HD_LOG_INFO, "rolling back %s to %s", d->name,
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

/* ---------------------------------------------------------------- recovery */

guint hd_journal_count_pending(HdCtx *ctx)
{
        g_autoptr(GPtrArray) names = hd_list_dir_at(hd_ctx_get_root_fd(ctx), JOURNAL_DIR, NULL);
        guint n = 0;

        for (guint i = 0; names && i < names->len; i++)
                if (!strstr(names->pdata[i], ".tmp."))
                        n++;
        return n;
}

static void note_failure(GString *failures, GError **local)
{
        g_string_append_printf(failures, "%s%s", failures->len ? "; " : "", (*local)->message);
        g_clear_error(local);
}

/* "<name>.tmp.<n>.<pid>": the temporary file of an atomic write. Remove it only when its writer is
 * gone (a crash between write and rename); a live writer is about to rename it. */
static void remove_stale_temp(HdCtx *ctx, const char *name)
{
        const char *pid_text = strrchr(name, '.');
        g_autofree char *path = g_strdup_printf(JOURNAL_DIR "/%s", name);
        gint64 pid;

        if (!pid_text || !hd_parse_int(pid_text + 1, 1, G_MAXINT, &pid))
                return;
        if (kill((pid_t)pid, 0) < 0 && errno == ESRCH)
                (void)hd_unlink_at(hd_ctx_get_root_fd(ctx), path, 0);
}

gboolean hd_journal_recover(HdCtx *ctx, guint *n_recovered, GError **error)
{
        g_autoptr(GPtrArray) names = hd_list_dir_at(hd_ctx_get_root_fd(ctx), JOURNAL_DIR, NULL);
        g_autoptr(GString) failures = g_string_new(NULL);
        guint n = 0;

        if (n_recovered)
                *n_recovered = 0;
        for (guint i = 0; names && i < names->len; i++) {
                const char *name = names->pdata[i];
                g_autoptr(HdJournal) j = NULL;
                g_autoptr(HdGroupLocks) locks = NULL;
                g_autoptr(GArray) groups = g_array_new(FALSE, FALSE, sizeof(int));
                g_autoptr(GError) local = NULL;
                g_autoptr(HdJournal) again = NULL;
                gboolean ok;

                if (strstr(name, ".tmp.")) {
                        remove_stale_temp(ctx, name);
                        continue;
                }
                j = journal_load(ctx, name, &local);
                if (!j) {
                        if (local)
                                note_failure(failures, &local);
                        continue;
                }
                for (guint k = 0; k < j->devices->len; k++)
                        g_array_append_val(groups,
                                           ((HdJournalDevice *)j->devices->pdata[k])->group);
                locks = hd_group_locks_acquire(ctx, groups, &local);
                if (!locks) {
                        if (g_error_matches(local, HD_ERROR, HD_ERROR_BUSY)) {
                                /* A live process owns it: not interrupted. */
                                hd_ctx_log(ctx, HD_LOG_INFO, "journal %s: in progress (%s)", name,
                                           local->message);
                                continue;
                        }
                        g_propagate_error(error, g_steal_pointer(&local));
                        return FALSE;
                }
                /* Reread under the lock: its owner may have finished meanwhile. */
                again = journal_load(ctx, name, &local);
                if (!again) {
                        if (local)
                                note_failure(failures, &local);
                        continue;
                }
                hd_ctx_log(ctx, HD_LOG_INFO, "recovering interrupted %s (%s, state %s)",
                           hd_tx_kind_to_string(again->kind), name, again->state);
                /* One transaction that cannot be recovered does not stop the others. */
                ok = g_strcmp0(again->state, "committing") == 0
                             ? finish_commit(again, &local)
                             : hd_journal_rollback(again, &local);
                if (!ok) {
                        note_failure(failures, &local);
                        continue;
                }
                n++;
        }
        if (n_recovered)
                *n_recovered = n;
        if (failures->len) {
                g_set_error(error, HD_ERROR, HD_ERROR_FAILED,
                            "cannot recover an interrupted operation: %s", failures->str);
                return FALSE;
        }
        return TRUE;
}

/* ---------------------------------------------------------------- origins */

static GKeyFile *origins_load(HdCtx *ctx)
{
        GKeyFile *kf = g_key_file_new();
        g_autofree char *data = hd_read_file_at(hd_ctx_get_root_fd(ctx), ORIGINS_FILE, 1 << 20,
                                                NULL);

        if (data)
                (void)g_key_file_load_from_data(kf, data, -1, G_KEY_FILE_NONE, NULL);
        return kf;
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
        hd_autofd int lock = origins_lock(ctx, error);
        g_autoptr(GKeyFile) kf = NULL;

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
        g_autoptr(GKeyFile) kf = origins_load(ctx);

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
