/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * SR-IOV PFs and the VF count transaction; the rules and invariants are in sriov.h.
 */
#include "config.h"

#include <string.h>

#include "bind.h"
#include "fileio.h"
#include "group.h"
#include "hd-error.h"
#include "hint.h"
#include "journal.h"
#include "lock.h"
#include "parse.h"
#include "sriov.h"
#include "state.h"
#include "usage.h"
#include "vm-record.h"

/* ---------------------------------------------------------------- the PF */

static int pf_int(HdCtx *ctx, const char *pf, const char *name, gboolean hex)
{
        g_autofree char *path = g_strdup_printf("sys/bus/pci/devices/%s/%s", pf, name);
        g_autofree char *text = hd_read_attr_optional_at(hd_ctx_get_root_fd(ctx), path);
        guint64 x;
        gint64 d;

        if (!text)
                return -1;
        g_strstrip(text);
        if (hex)
                return hd_parse_hex(text, 0xffff, &x) ? (int)x : -1;
        return hd_parse_int(text, 0, 65535, &d) ? (int)d : -1;
}

void hd_sriov_pf_free(HdSriovPf *pf)
{
        if (!pf)
                return;
        g_free(pf->name);
        g_free(pf->driver);
        if (pf->vfs)
                g_ptr_array_unref(pf->vfs);
        g_free(pf);
}

HdSriovPf *hd_sriov_pf_load(HdCtx *ctx, const HdAddress *address, GError **error)
{
        g_autoptr(HdDevice) dev = hd_device_load(ctx, address, HD_FIELDS_LIST, error);
        g_autoptr(HdSriovPf) pf = NULL;
        g_autoptr(HdStateFacts) facts = NULL;

        if (!dev)
                return NULL;
        if (dev->physfn) {
                g_autofree char *hint = hd_hint_sriov(ctx, dev->physfn, -1);

                g_set_error(error, HD_ERROR, HD_ERROR_INVALID_ARGUMENT,
                            "%s is a virtual function of %s: %s", dev->name, dev->physfn, hint);
                return NULL;
        }
        if (dev->sriov_totalvfs < 0) {
                g_autofree char *list = hd_hint_command(ctx, HD_HINT_CMD_LIST, NULL, FALSE, 0);

                g_set_error(error, HD_ERROR, HD_ERROR_INVALID_ARGUMENT,
                            "%s is not an SR-IOV physical function (it has no sriov_totalvfs); "
                            "%s%s shows sriov_totalvfs for those that are",
                            dev->name, list,
                            hd_ctx_get_vocabulary(ctx) == HD_VOCABULARY_API ? "" : " --json");
                return NULL;
        }
        pf = g_new0(HdSriovPf, 1);
        pf->name = g_strdup(dev->name);
        pf->driver = g_strdup(dev->driver);
        pf->totalvfs = dev->sriov_totalvfs;
        pf->numvfs = dev->sriov_numvfs;
        pf->autoprobe = pf_int(ctx, dev->name, "sriov_drivers_autoprobe", FALSE);
        pf->vf_device = pf_int(ctx, dev->name, "sriov_vf_device", TRUE);
        pf->offset = pf_int(ctx, dev->name, "sriov_offset", FALSE);
        pf->stride = pf_int(ctx, dev->name, "sriov_stride", FALSE);
        pf->vfs = g_ptr_array_new_with_free_func((GDestroyNotify)hd_device_free);
        facts = dev->virtfns->len ? hd_state_facts_read(ctx) : NULL;
        for (guint i = 0; i < dev->virtfns->len; i++) {
                HdAddress a;
                HdDevice *vf;

                if (!hd_address_parse_sysfs_name(dev->virtfns->pdata[i], &a))
                        continue;
                vf = hd_device_load(ctx, &a, HD_FIELDS_LIST | HD_FIELD_USERS, NULL);
                if (!vf)
                        continue; /* removed meanwhile */
                hd_state_apply_device(vf, facts);
                g_ptr_array_add(pf->vfs, vf);
        }
        return g_steal_pointer(&pf);
}

/* ---------------------------------------------------------------- the rules */

/* Why @vf may not go away now (S1), with what to run first; NULL when it may. */
static char *vf_in_use(HdCtx *ctx, const HdDevice *vf, const HdStateFacts *facts,
                       GPtrArray *pending)
{
        GPtrArray *holders = vf->iommu_group >= 0 ? hd_state_facts_holders(facts, vf->iommu_group)
                                                  : NULL;
        g_autofree char *origin = NULL, *override = NULL, *vm = NULL;

        if (holders && holders->len > 0) {
                g_autofree char *who = hd_holder_describe(holders->pdata[0]);

                return g_strdup_printf("%s is open by %s: stop it first, the kernel would wait "
                                       "for it", vf->name, who);
        }
        for (guint i = 0; pending && i < pending->len; i++) {
                const HdPendingOp *op = pending->pdata[i];

                for (guint k = 0; op->groups && k < op->groups->len; k++)
                        if (vf->iommu_group >= 0 &&
                            g_array_index(op->groups, int, k) == vf->iommu_group)
                                return g_strdup_printf("%s is in the interrupted operation /%s: "
                                                       "hostdev recover",
                                                       vf->name, op->file);
        }
        if ((vm = hd_vm_record_holding(ctx, vf->name)))
                return g_strdup_printf("%s is recorded for VM %s: stop the VM or take the "
                                       "device out of it first", vf->name, vm);
        /* an origin is hostdev's record of a detach: it counts while the VF is on the
         * driver it was moved to; a VF made again since (no driver) is not detached */
        if (vf->driver && hd_driver_is_viable(vf->driver) &&
            hd_journal_get_origin(ctx, vf->name, &origin, &override)) {
                g_autofree char *hint = hd_hint_attach(ctx, vf->name);

                return g_strdup_printf("%s was detached by hostdev for a VM: %s", vf->name,
                                       hint);
        }
        if (vf->host_need)
                return g_strdup_printf("%s: %s (stop using it on the host first)", vf->name,
                                       vf->host_need);
        return NULL;
}

gboolean hd_sriov_check_numvfs(HdCtx *ctx, const HdSriovPf *pf, const HdSriovRequest *request,
                               GError **error)
{
        g_autoptr(HdStateFacts) facts = NULL;
        g_autoptr(GPtrArray) pending = NULL;
        g_autoptr(GString) why = g_string_new(NULL);
        guint n = 0;

        if (request->numvfs < 0 || request->numvfs > pf->totalvfs) {
                g_autofree char *hint = hd_hint_sriov(ctx, pf->name, pf->totalvfs);

                g_set_error(error, HD_ERROR, HD_ERROR_INVALID_ARGUMENT,
                            "%s can have at most %d VFs (sriov_totalvfs), not %d: %s",
                            pf->name, pf->totalvfs, request->numvfs, hint);
                return FALSE;
        }
        if (request->numvfs != pf->numvfs && !pf->driver) {
                g_autofree char *attach = hd_hint_attach(ctx, pf->name);
                g_autofree char *hint = hd_hint_sriov(ctx, pf->name, request->numvfs);

                g_set_error(error, HD_ERROR, HD_ERROR_REFUSED,
                            "%s has no driver, and only the PF's driver creates VFs: "
                            "%s, then %s",
                            pf->name, attach, hint);
                return FALSE;
        }
        if (request->numvfs != pf->numvfs && hd_driver_is_viable(pf->driver) &&
            strcmp(pf->driver, "pci-stub") == 0) {
                g_autofree char *attach = hd_hint_attach(ctx, pf->name);

                g_set_error(error, HD_ERROR, HD_ERROR_REFUSED,
                            "%s is on pci-stub, which cannot create VFs: %s "
                            "gives it back to its own driver",
                            pf->name, attach);
                return FALSE;
        }
        if (request->autoprobe >= 0 && pf->autoprobe < 0) {
                g_set_error(error, HD_ERROR, HD_ERROR_NOT_SUPPORTED,
                            "%s has no sriov_drivers_autoprobe (a kernel before 4.12): run "
                            "without --autoprobe",
                            pf->name);
                return FALSE;
        }
        if (request->numvfs == pf->numvfs || pf->vfs->len == 0)
                return TRUE;
        facts = hd_state_facts_read(ctx);
        pending = hd_journal_list_pending(ctx);
        for (guint i = 0; i < pf->vfs->len; i++) {
                g_autofree char *reason = vf_in_use(ctx, pf->vfs->pdata[i], facts, pending);

                if (!reason)
                        continue;
                g_string_append_printf(why, "\n  %s", reason);
                n++;
        }
        if (n == 0)
                return TRUE;
        g_set_error(error, HD_ERROR, HD_ERROR_REFUSED,
                    "%s: changing the VF count from %d to %d removes every VF, and %u %s in "
                    "use:%s",
                    pf->name, pf->numvfs, request->numvfs, n, n == 1 ? "is" : "are",
                    why->str);
        return FALSE;
}

/* ---------------------------------------------------------------- the transaction */

void hd_sriov_report_free(HdSriovReport *report)
{
        if (!report)
                return;
        g_free(report->pf);
        g_ptr_array_unref(report->removed);
        g_ptr_array_unref(report->created);
        g_free(report);
}

/* Who holds the VFs of @pf now ("VM win10 (process 4242, qemu)"), for the message of a write
 * that is still waiting (S2); NULL when nobody. */
static char *holders_text(HdCtx *ctx, const HdSriovPf *pf)
{
        g_autoptr(GString) s = g_string_new(NULL);

        for (guint i = 0; i < pf->vfs->len; i++) {
                const HdDevice *vf = pf->vfs->pdata[i];
                g_autoptr(GPtrArray) holders =
                        vf->iommu_group >= 0 ? hd_usage_group_holders(ctx, vf->iommu_group)
                                             : NULL;

                for (guint k = 0; holders && k < holders->len; k++) {
                        g_autofree char *who = hd_holder_describe(holders->pdata[k]);

                        g_string_append_printf(s, "%s%s holds %s", s->len ? "; " : "", who,
                                               vf->name);
                }
        }
        return s->len ? g_string_free(g_steal_pointer(&s), FALSE) : NULL;
}

static gboolean write_count(HdCtx *ctx, const HdSriovPf *pf, int count, guint timeout_ms,
                            GError **error)
{
        g_autofree char *path = g_strdup_printf("sys/bus/pci/devices/%s/sriov_numvfs", pf->name);
        g_autofree char *value = g_strdup_printf("%d", count);
        g_autoptr(GError) local = NULL;

        if (hd_ctx_write_bounded(ctx, path, value, timeout_ms, &local))
                return TRUE;
        if (g_error_matches(local, HD_ERROR, HD_ERROR_BUSY)) {
                g_autofree char *who = holders_text(ctx, pf);
                g_autofree char *hint = hd_hint_sriov(ctx, pf->name, count);

                g_set_error(error, HD_ERROR, HD_ERROR_BUSY,
                            "%s: the kernel is still removing its VFs after %u s, waiting for "
                            "%s to let go; the VFs go when it exits (the write goes on in the "
                            "background). Then: hostdev recover, and %s",
                            pf->name, timeout_ms / 1000, who ? who : "a VF's user", hint);
                return FALSE;
        }
        g_propagate_prefixed_error(error, g_steal_pointer(&local), "%s: %d VFs: ", pf->name,
                                   count);
        return FALSE;
}

static void report_created(HdCtx *ctx, HdSriovReport *report)
{
        g_autoptr(HdSriovPf) now = NULL;
        HdAddress a;

        if (!hd_address_parse_sysfs_name(report->pf, &a) ||
            !(now = hd_sriov_pf_load(ctx, &a, NULL)))
                return;
        report->numvfs_after = now->numvfs;
        report->autoprobe_after = now->autoprobe;
        for (guint i = 0; i < now->vfs->len; i++)
                g_ptr_array_add(report->created, g_steal_pointer(&now->vfs->pdata[i]));
}

HdSriovReport *hd_sriov_set_numvfs(HdCtx *ctx, const HdAddress *address,
                                   const HdSriovRequest *request, GError **error)
{
        g_autoptr(HdSriovPf) pf = NULL;
        g_autoptr(HdSriovReport) report = NULL;
        g_autoptr(GArray) groups = g_array_new(FALSE, FALSE, sizeof(int));
        g_autoptr(HdGroupLocks) locks = NULL;
        g_autoptr(HdJournal) journal = NULL;
        g_autoptr(GError) local = NULL;
        g_autoptr(HdDevice) pf_dev = NULL;
        g_autofree char *probe_path = NULL;
        guint timeout_ms = request->timeout_ms ? request->timeout_ms : HD_SRIOV_WRITE_TIMEOUT_MS;
        gboolean dry = hd_ctx_get_dry_run(ctx);
        gboolean count_changes, probe_changes;

        if (!(pf_dev = hd_device_load(ctx, address, HD_FIELD_IOMMU, error)))
                return NULL;
        if (pf_dev->iommu_group >= 0)
                g_array_append_val(groups, pf_dev->iommu_group);
        if (!hd_journal_recover_for(ctx, groups, NULL, error))
                return NULL;
        if (!(pf = hd_sriov_pf_load(ctx, address, error)))
                return NULL;
        for (guint i = 0; i < pf->vfs->len; i++) {
                const HdDevice *vf = pf->vfs->pdata[i];

                if (vf->iommu_group >= 0)
                        g_array_append_val(groups, vf->iommu_group);
        }
        /* S4, then load again under the locks: a detach may have finished meanwhile */
        if (!dry && !(locks = hd_group_locks_acquire(ctx, groups, error)))
                return NULL;
        hd_sriov_pf_free(g_steal_pointer(&pf));
        if (!(pf = hd_sriov_pf_load(ctx, address, error)) ||
            !hd_sriov_check_numvfs(ctx, pf, request, error))
                return NULL;

        report = g_new0(HdSriovReport, 1);
        report->pf = g_strdup(pf->name);
        report->numvfs_before = report->numvfs_after = pf->numvfs;
        report->autoprobe_before = report->autoprobe_after = pf->autoprobe;
        report->removed = g_ptr_array_new_with_free_func(g_free);
        report->created = g_ptr_array_new_with_free_func((GDestroyNotify)hd_device_free);
        count_changes = request->numvfs != pf->numvfs;
        probe_changes = request->autoprobe >= 0 && request->autoprobe != pf->autoprobe;
        if (!count_changes && !probe_changes) {
                report_created(ctx, report);
                return g_steal_pointer(&report);
        }
        report->changed = TRUE;

        /* S3 */
        if (!dry) {
                journal = hd_journal_new(ctx, HD_TX_SRIOV);
                hd_journal_add_device(journal, pf->name, pf_dev->iommu_group, pf->driver,
                                      NULL, pf->driver);
                journal->sriov_numvfs = pf->numvfs;
                journal->sriov_autoprobe = pf->autoprobe;
                if (!hd_journal_begin(journal, error))
                        return NULL;
        }
        /* S5 */
        probe_path = g_strdup_printf("sys/bus/pci/devices/%s/sriov_drivers_autoprobe", pf->name);
        if (probe_changes &&
            !hd_ctx_write(ctx, probe_path, request->autoprobe ? "1" : "0", &local))
                goto rollback;
        if (count_changes && pf->numvfs > 0) {
                if (!write_count(ctx, pf, 0, timeout_ms, &local)) {
                        if (g_error_matches(local, HD_ERROR, HD_ERROR_BUSY)) {
                                /* S2: the writer still waits and holds the locks; its journal
                                 * stays for recovery once it is done */
                                g_propagate_error(error, g_steal_pointer(&local));
                                return NULL;
                        }
                        goto rollback;
                }
                for (guint i = 0; i < pf->vfs->len; i++)
                        g_ptr_array_add(report->removed,
                                        g_strdup(((HdDevice *)pf->vfs->pdata[i])->name));
        }
        if (count_changes && request->numvfs > 0 &&
            !write_count(ctx, pf, request->numvfs, timeout_ms, &local))
                goto rollback;
        if (dry) {
                report->numvfs_after = request->numvfs;
                if (request->autoprobe >= 0)
                        report->autoprobe_after = request->autoprobe;
                return g_steal_pointer(&report);
        }
        report_created(ctx, report);
        if (report->numvfs_after != request->numvfs ||
            (int)report->created->len != request->numvfs) {
                g_set_error(&local, HD_ERROR, HD_ERROR_FAILED,
                            "%s reports %d VFs with %u present after asking for %d",
                            pf->name, report->numvfs_after, report->created->len,
                            request->numvfs);
                goto rollback;
        }
        if (!hd_journal_commit(journal, error))
                return NULL;
        return g_steal_pointer(&report);

rollback:
        if (journal) {
                g_autoptr(GError) rb = NULL;

                if (!hd_journal_rollback(journal, &rb)) {
                        g_propagate_prefixed_error(error, g_steal_pointer(&local),
                                                   "%s (and rolling back failed: %s): ",
                                                   pf->name, rb->message);
                        return NULL;
                }
        }
        g_propagate_error(error, g_steal_pointer(&local));
        return NULL;
}
