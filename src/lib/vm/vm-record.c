/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The record of the devices moved for VMs; the state machine and invariants are in vm-record.h. */
#include "config.h"

#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "device.h"
#include "fileio.h"
#include "hd-error.h"
#include "inventory.h"
#include "journal.h"
#include "strarray.h"
#include "vm.h"
#include "macros.h"
#include "vm-record.h"

#define RECORD_DIR "var/lib/hostdev/agent"
#define RECORD_NAME "vms.ini"
#define RECORD_FILE RECORD_DIR "/" RECORD_NAME
#define RECORD_LOCK RECORD_DIR "/vms.lock"
#define VM_PREFIX "vm "

static const char *const state_names[] = {
    [HD_VM_RECORD_STARTING] = "starting",
    [HD_VM_RECORD_STARTED] = "started",
};

const char *hd_vm_record_state_to_string(HdVmRecordState state)
{
        return (guint)state < G_N_ELEMENTS(state_names) ? state_names[state] : "unknown";
}

void hd_vm_record_free(HdVmRecord *record)
{
        if (!record)
                return;
        g_free(record->vm);
        g_ptr_array_unref(record->devices);
        g_free(record);
}

/* The file as a key file; a file that breaks V3 reads as empty, and with @quarantine is moved
 * away (the writers and the agent's start do that; readers that only show the record, which a
 * read-only agent serves too, leave it where it is). */
static GKeyFile *records_read(HdCtx *ctx, gboolean quarantine)
{
        int root_fd = hd_ctx_get_root_fd(ctx);
        GKeyFile *kf = g_key_file_new();
        g_autoptr(GError) error = NULL;
        g_autofree char *data = NULL;
        g_auto(GStrv) groups = NULL;
        const char *why = NULL;

        struct stat st;

        if (!hd_stat_at(root_fd, RECORD_FILE, TRUE, &st))
                return kf;
        if (!S_ISREG(st.st_mode))
                why = "not a regular file"; /* never opened: a FIFO would block */
        else if (!(data = hd_read_file_at(root_fd, RECORD_FILE, HD_VM_RECORD_MAX_BYTES, &error)))
                why = error->message;
        else if (!g_key_file_load_from_data(kf, data, -1, G_KEY_FILE_NONE, &error))
                why = error->message;
        if (!why) {
                groups = g_key_file_get_groups(kf, NULL);
                for (char **g = groups; *g && !why; g++) {
                        g_auto(GStrv) list = NULL;
                        g_autofree char *state = NULL;
                        gsize n = 0;

                        if (!g_str_has_prefix(*g, VM_PREFIX) ||
                            !hd_vm_name_is_valid(*g + strlen(VM_PREFIX))) {
                                why = "a group that is not a VM";
                                break;
                        }
                        state = g_key_file_get_string(kf, *g, "state", NULL);
                        if (state && strcmp(state, "starting") != 0 &&
                            strcmp(state, "started") != 0) {
                                why = "an unknown state";
                                break;
                        }
                        list = g_key_file_get_string_list(kf, *g, "detached", &n, NULL);
                        if (n > HD_VM_RECORD_MAX_DEVICES)
                                why = "more devices than a VM can have";
                        for (gsize i = 0; !why && i < n; i++) {
                                HdAddress a;
                                if (!hd_address_parse_sysfs_name(list[i], &a))
                                        why = "a device that is not a PCI address";
                        }
                }
        }
        if (why && !quarantine) {
                g_key_file_unref(kf);
                return g_key_file_new();
        }
        if (why) {
                g_autofree char *reason = g_strdup_printf(
                    "the record of the devices moved for VMs is unreadable (%s); the devices "
                    "it names stay where they are (hostdev list shows them)",
                    why);
                (void)hd_quarantine_file(ctx, RECORD_DIR, RECORD_NAME, reason);
                g_key_file_unref(kf);
                kf = g_key_file_new();
        }
        return kf;
}

static HdVmRecord *record_from(GKeyFile *kf, const char *group)
{
        HdVmRecord *r = g_new0(HdVmRecord, 1);
        g_autofree char *state = g_key_file_get_string(kf, group, "state", NULL);
        g_auto(GStrv) list = g_key_file_get_string_list(kf, group, "detached", NULL, NULL);

        r->vm = g_strdup(group + strlen(VM_PREFIX));
        /* A record without a state predates the intent record: it was written after a move. */
        r->state = g_strcmp0(state, "starting") == 0 ? HD_VM_RECORD_STARTING : HD_VM_RECORD_STARTED;
        r->devices = g_ptr_array_new_with_free_func(g_free);
        for (char **d = list; d && *d; d++)
                g_ptr_array_add(r->devices, g_strdup(*d));
        return r;
}

GPtrArray *hd_vm_records_load(HdCtx *ctx)
{
        g_autoptr(GKeyFile) kf = records_read(ctx, TRUE);
        g_auto(GStrv) groups = g_key_file_get_groups(kf, NULL);
        GPtrArray *out = g_ptr_array_new_with_free_func((GDestroyNotify)hd_vm_record_free);

        for (char **g = groups; *g; g++)
                g_ptr_array_add(out, record_from(kf, *g));
        return out;
}

HdVmRecord *hd_vm_record_get(HdCtx *ctx, const char *vm)
{
        g_autoptr(GKeyFile) kf = records_read(ctx, FALSE);
        g_autofree char *group = g_strconcat(VM_PREFIX, vm, NULL);

        return g_key_file_has_group(kf, group) ? record_from(kf, group) : NULL;
}

char *hd_vm_record_holding(HdCtx *ctx, const char *device)
{
        g_autoptr(GKeyFile) kf = records_read(ctx, FALSE);
        g_auto(GStrv) groups = g_key_file_get_groups(kf, NULL);

        for (char **g = groups; *g; g++) {
                g_autoptr(HdVmRecord) r = record_from(kf, *g);
                for (guint k = 0; k < r->devices->len; k++)
                        if (strcmp(r->devices->pdata[k], device) == 0)
                                return g_strdup(r->vm);
        }
        return NULL;
}

/* Tests make a record write fail on demand: HOSTDEV_VM_RECORD_FAIL=<state> (sim backend only)
 * fails every write that sets a record to that state. */
static gboolean injected_failure(HdCtx *ctx, HdVmRecordState state, GError **error)
{
        const char *fail = g_getenv("HOSTDEV_VM_RECORD_FAIL");

        if (!fail || hd_ctx_get_backend_kind(ctx) != HD_BACKEND_SIM ||
            strcmp(fail, hd_vm_record_state_to_string(state)) != 0)
                return FALSE;
        g_set_error(error, HD_ERROR, HD_ERROR_FAILED,
                    "cannot write /" RECORD_FILE ": simulated failure (HOSTDEV_VM_RECORD_FAIL)");
        return TRUE;
}

/* Read-modify-write under the lock: set (@devices != NULL) or remove the group of @vm. */
static gboolean records_update(HdCtx *ctx, const char *vm, HdVmRecordState state,
                               GPtrArray *devices, GError **error)
{
        int root_fd = hd_ctx_get_root_fd(ctx);
        g_autofree char *group = g_strconcat(VM_PREFIX, vm, NULL);
        g_autoptr(GKeyFile) kf = NULL;
        g_autofree char *data = NULL;
        hd_autofd int lock = -1;

        g_return_val_if_fail(hd_vm_name_is_valid(vm), FALSE);
        if (devices && devices->len > HD_VM_RECORD_MAX_DEVICES) {
                g_set_error(error, HD_ERROR, HD_ERROR_REFUSED,
                            "VM %s would hold %u devices; at most %d can be recorded", vm,
                            devices->len, HD_VM_RECORD_MAX_DEVICES);
                return FALSE;
        }
        if (!hd_mkdir_p_at(root_fd, RECORD_DIR, 0700, error) ||
            (lock = hd_lock_file_at(root_fd, RECORD_LOCK, error)) < 0)
                goto failed;
        kf = records_read(ctx, TRUE);
        if (!devices) {
                if (!g_key_file_has_group(kf, group))
                        return TRUE;
                (void)g_key_file_remove_group(kf, group, NULL);
        } else {
                if (injected_failure(ctx, state, error))
                        goto failed;
                (void)g_key_file_remove_group(kf, group, NULL);
                g_key_file_set_string(kf, group, "state", hd_vm_record_state_to_string(state));
                g_key_file_set_string_list(kf, group, "detached",
                                           (const char *const *)devices->pdata, devices->len);
        }
        data = g_key_file_to_data(kf, NULL, NULL);
        if (hd_ctx_replace_file(ctx, RECORD_FILE, data, -1, error))
                return TRUE;
failed:
        g_prefix_error(error, "cannot record the devices moved for VM %s: ", vm);
        return FALSE;
}

gboolean hd_vm_record_set(HdCtx *ctx, const char *vm, HdVmRecordState state, GPtrArray *devices,
                          GError **error)
{
        g_autoptr(GPtrArray) none = g_ptr_array_new();

        return records_update(ctx, vm, state, devices ? devices : none, error);
}

gboolean hd_vm_record_drop(HdCtx *ctx, const char *vm, GError **error)
{
        return records_update(ctx, vm, HD_VM_RECORD_STARTED, NULL, error);
}

GPtrArray *hd_vm_record_candidates(HdCtx *ctx, const HdAddress *addresses, guint n)
{
        GPtrArray *out = g_ptr_array_new_with_free_func(g_free);

        for (guint i = 0; i < n; i++) {
                g_autoptr(HdDevice) dev =
                    hd_device_load(ctx, &addresses[i], HD_FIELD_DRIVER | HD_FIELD_IOMMU, NULL);
                g_autoptr(GArray) members = NULL;
                char name[HD_ADDRESS_STRLEN];

                if (!dev || hd_driver_is_vfio(dev->driver))
                        continue;
                hd_str_array_add_unique(out, hd_address_format(&addresses[i], name));
                if (dev->iommu_group < 0)
                        continue;
                members = hd_iommu_group_addresses(ctx, dev->iommu_group);
                for (guint k = 0; k < members->len; k++) {
                        const HdAddress *a = &g_array_index(members, HdAddress, k);
                        g_autoptr(HdDevice) m = hd_device_load(ctx, a, HD_FIELD_DRIVER, NULL);

                        if (m && !hd_driver_is_vfio(m->driver))
                                hd_str_array_add_unique(out, hd_address_format(a, name));
                }
        }
        return out;
}
