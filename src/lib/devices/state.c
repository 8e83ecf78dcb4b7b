/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The state of devices and IOMMU groups; the rules are at the top of state.h. */
#include "config.h"

#include <string.h>

#include "fileio.h"
#include "journal.h"
#include "parse.h"
#include "bind.h" /* HdDeviceState: the lifecycle bind.h documents */
#include "state.h"
#include "strarray.h"
#include "usage.h"

static const char *const group_state_names[] = {
    [HD_GROUP_STATE_HOST_DRIVER] = "host-driver",
    [HD_GROUP_STATE_UNBOUND] = "unbound",
    [HD_GROUP_STATE_PARTLY_DETACHED] = "partly-detached",
    [HD_GROUP_STATE_READY] = "ready",
    [HD_GROUP_STATE_IN_USE] = "in-use",
    [HD_GROUP_STATE_NO_ENDPOINT] = "no-endpoint",
    [HD_GROUP_STATE_INTERRUPTED] = "interrupted",
};

const char *hd_group_state_to_string(HdGroupState state)
{
        return (guint)state < G_N_ELEMENTS(group_state_names) ? group_state_names[state]
                                                              : "unknown";
}

struct HdStateFacts {
        GHashTable *usage;   /* address -> GPtrArray of sentences (hd_usage_index) */
        GHashTable *holders; /* group -> GPtrArray of HdHolder* */
        GPtrArray *pending;  /* HdPendingOp* (journal.h) */
};

/* ---------------------------------------------------------------- holders */


/* N of "/dev/vfio/N" (or "<root>/dev/vfio/N" for a process on this host that opened a
 * fixture's node), -1 for anything else. */
static int vfio_group_of_link(const char *target, const char *root_prefix)
{
        const char *rest = NULL;
        gint64 n;

        if (g_str_has_prefix(target, "/dev/vfio/"))
                rest = target + strlen("/dev/vfio/");
        else if (root_prefix && g_str_has_prefix(target, root_prefix) &&
                 g_str_has_prefix(target + strlen(root_prefix), "/dev/vfio/"))
                rest = target + strlen(root_prefix) + strlen("/dev/vfio/");
        if (!rest || !hd_parse_int(rest, 0, G_MAXINT, &n))
                return -1;
        return (int)n;
}

GHashTable *hd_state_scan_holders(HdCtx *ctx)
{
        int root_fd = hd_ctx_get_root_fd(ctx);
        g_autoptr(GPtrArray) pids = NULL;
        const char *root_prefix = hd_ctx_is_live_root(ctx) ? NULL : hd_ctx_get_root(ctx);
        GHashTable *out = g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL,
                                                (GDestroyNotify)g_ptr_array_unref);
        g_autoptr(GPtrArray) nodes = hd_list_dir_at(root_fd, "dev/vfio", NULL);
        gboolean any_group = FALSE;

        /* No /dev/vfio/N, no holder: `list` on a host without vfio does not walk /proc */
        for (guint i = 0; nodes && i < nodes->len; i++)
                any_group = any_group || g_ascii_isdigit(((char *)nodes->pdata[i])[0]);
        if (!any_group)
                return out;
        pids = hd_list_dir_at(root_fd, "proc", NULL);
        for (guint i = 0; pids && i < pids->len; i++) {
                const char *pid = pids->pdata[i];
                g_autofree char *fd_dir = NULL;
                g_autoptr(GPtrArray) fds = NULL;
                g_autoptr(GArray) seen = g_array_new(FALSE, FALSE, sizeof(int));
                gint64 n;

                if (!hd_parse_int(pid, 1, G_MAXINT, &n))
                        continue;
                fd_dir = g_strdup_printf("proc/%s/fd", pid);
                fds = hd_list_dir_at(root_fd, fd_dir, NULL);
                for (guint j = 0; fds && j < fds->len; j++) {
                        g_autofree char *link =
                            g_strdup_printf("%s/%s", fd_dir, (char *)fds->pdata[j]);
                        g_autofree char *target = hd_readlink_at(root_fd, link, NULL);
                        g_autofree char *comm_path = NULL;
                        GPtrArray *list;
                        HdHolder *h;
                        gboolean dup = FALSE;
                        int group;

                        if (!target || (group = vfio_group_of_link(target, root_prefix)) < 0)
                                continue;
                        for (guint k = 0; k < seen->len; k++)
                                dup = dup || g_array_index(seen, int, k) == group;
                        if (dup)
                                continue;
                        g_array_append_val(seen, group);
                        h = g_new0(HdHolder, 1);
                        h->pid = (int)n;
                        comm_path = g_strdup_printf("proc/%s/comm", pid);
                        h->process = hd_read_attr_optional_at(root_fd, comm_path);
                        h->vm = hd_usage_vm_of_pid(ctx, (int)n);
                        list = g_hash_table_lookup(out, GINT_TO_POINTER(group));
                        if (!list) {
                                list =
                                    g_ptr_array_new_with_free_func((GDestroyNotify)hd_holder_free);
                                g_hash_table_insert(out, GINT_TO_POINTER(group), list);
                        }
                        g_ptr_array_add(list, h);
                }
        }
        return out;
}

/* ---------------------------------------------------------------- facts */

HdStateFacts *hd_state_facts_read(HdCtx *ctx)
{
        HdStateFacts *f = g_new0(HdStateFacts, 1);

        f->usage = hd_usage_index(ctx);
        f->holders = hd_state_scan_holders(ctx);
        f->pending = hd_journal_list_pending(ctx);
        return f;
}

void hd_state_facts_free(HdStateFacts *f)
{
        if (!f)
                return;
        g_hash_table_unref(f->usage);
        g_hash_table_unref(f->holders);
        g_ptr_array_unref(f->pending);
        g_free(f);
}

guint hd_state_facts_interrupted(const HdStateFacts *f)
{
        guint n = 0;

        for (guint i = 0; i < f->pending->len; i++)
                if (((HdPendingOp *)f->pending->pdata[i])->action != HD_PENDING_IN_PROGRESS)
                        n++;
        return n;
}

guint hd_state_count_interrupted(HdCtx *ctx)
{
        g_autoptr(GPtrArray) pending = hd_journal_list_pending(ctx);
        guint n = 0;

        for (guint i = 0; i < pending->len; i++)
                if (((HdPendingOp *)pending->pdata[i])->action != HD_PENDING_IN_PROGRESS)
                        n++;
        return n;
}

GPtrArray *hd_state_facts_holders(const HdStateFacts *f, int group)
{
        return group >= 0 ? g_hash_table_lookup(f->holders, GINT_TO_POINTER(group)) : NULL;
}

/* The journal of an interrupted operation naming @group, NULL when none. */
static const char *interrupted_journal(const HdStateFacts *f, int group)
{
        for (guint i = 0; i < f->pending->len; i++) {
                const HdPendingOp *op = f->pending->pdata[i];
                if (op->action == HD_PENDING_IN_PROGRESS || op->action == HD_PENDING_QUARANTINE)
                        continue;
                for (guint k = 0; k < op->groups->len; k++)
                        if (g_array_index(op->groups, int, k) == group)
                                return op->file;
        }
        return NULL;
}

char *hd_state_interrupted_text(guint n)
{
        if (n == 0)
                return NULL;
        return g_strdup_printf("%u interrupted operation%s: run hostdev recover (hostdev recover "
                               "--dry-run shows what it would do)",
                               n, n == 1 ? "" : "s");
}

/* ---------------------------------------------------------------- devices */

static gboolean is_endpoint(const HdDevice *dev)
{
        return !hd_device_is_bridge(dev) && !hd_device_is_host_bridge(dev);
}

static HdDeviceState device_state(const HdDevice *dev, gboolean held)
{
        if (!dev->driver)
                return HD_DEVICE_STATE_UNBOUND;
        if (!hd_driver_is_viable(dev->driver))
                return HD_DEVICE_STATE_HOST_DRIVER;
        return held ? HD_DEVICE_STATE_ASSIGNED : HD_DEVICE_STATE_VFIO_FREE;
}

void hd_state_apply_device(HdDevice *dev, const HdStateFacts *f)
{
        GPtrArray *holders = hd_state_facts_holders(f, dev->iommu_group);
        GPtrArray *uses = g_hash_table_lookup(f->usage, dev->name);

        dev->state = device_state(dev, holders && holders->len > 0);
        g_clear_pointer(&dev->host_need, g_free);
        /* only a device on a host driver can be in the host's use (a route, a mount) */
        if (uses && uses->len > 0 && is_endpoint(dev) &&
            dev->state == HD_DEVICE_STATE_HOST_DRIVER) {
                g_autofree char *list = hd_str_array_join(uses, ", ");
                dev->host_need = g_strconcat("the host uses it: ", list, NULL);
        } else if (dev->sriov_numvfs > 0 && dev->state == HD_DEVICE_STATE_HOST_DRIVER) {
                /* detach refuses it (bind.c): the VFs hang off the PF's driver */
                dev->host_need = g_strdup_printf("an SR-IOV physical function with %d VFs "
                                                 "enabled: pass through the VFs, or disable "
                                                 "them first",
                                                 dev->sriov_numvfs);
        }
}

/* ---------------------------------------------------------------- groups */

static void set_verdict(HdGroup *group, HdGroupVerdict verdict, char *text)
{
        group->verdict = verdict;
        g_free(group->verdict_text);
        group->verdict_text = text;
}

static void append_names(GString *s, GPtrArray *devs)
{
        for (guint i = 0; i < devs->len; i++) {
                const HdDevice *d = devs->pdata[i];
                if (i)
                        g_string_append(s, i + 1 == devs->len ? " and " : ", ");
                g_string_append_printf(s, "%s (%s)", d->name, d->driver ? d->driver : "no driver");
        }
}

void hd_state_apply_group(HdGroup *group, const HdStateFacts *f)
{
        GPtrArray *holders = hd_state_facts_holders(f, group->number);
        const char *journal = interrupted_journal(f, group->number);
        g_autoptr(GPtrArray) on_vfio = g_ptr_array_new();
        g_autoptr(GPtrArray) on_host = g_ptr_array_new();
        guint n_endpoints = 0;
        gboolean boot_gpu_on_host = FALSE;
        HdGroupState state;

        g_ptr_array_set_size(group->host_use, 0);
        g_ptr_array_set_size(group->holders, 0);
        group->host_needs_it = FALSE;
        for (guint i = 0; i < group->members->len; i++) {
                HdDevice *dev = group->members->pdata[i];
                GPtrArray *uses = g_hash_table_lookup(f->usage, dev->name);

                hd_state_apply_device(dev, f);
                for (guint j = 0; uses && j < uses->len; j++)
                        g_ptr_array_add(group->host_use, g_strdup_printf("%s: %s", dev->name,
                                                                         (char *)uses->pdata[j]));
                if (!is_endpoint(dev))
                        continue;
                n_endpoints++;
                if (dev->host_need)
                        group->host_needs_it = TRUE;
                if (dev->state == HD_DEVICE_STATE_HOST_DRIVER) {
                        g_ptr_array_add(on_host, dev);
                        if (hd_device_is_boot_vga(dev)) {
                                boot_gpu_on_host = TRUE;
                                group->host_needs_it = TRUE;
                        }
                } else if (dev->state != HD_DEVICE_STATE_UNBOUND) {
                        g_ptr_array_add(on_vfio, dev);
                }
        }
        for (guint i = 0; holders && i < holders->len; i++) {
                const HdHolder *h = holders->pdata[i];
                HdHolder *copy = g_new0(HdHolder, 1);
                copy->pid = h->pid;
                copy->process = g_strdup(h->process);
                copy->vm = g_strdup(h->vm);
                g_ptr_array_add(group->holders, copy);
        }
        g_free(group->interrupted);
        group->interrupted = g_strdup(journal);

        if (n_endpoints == 0)
                state = HD_GROUP_STATE_NO_ENDPOINT;
        else if (journal)
                state = HD_GROUP_STATE_INTERRUPTED;
        else if (group->holders->len > 0)
                state = HD_GROUP_STATE_IN_USE;
        else if (on_host->len == 0 && on_vfio->len > 0)
                state = HD_GROUP_STATE_READY;
        else if (on_host->len > 0 && on_vfio->len > 0)
                state = HD_GROUP_STATE_PARTLY_DETACHED;
        else if (on_host->len > 0)
                state = HD_GROUP_STATE_HOST_DRIVER;
        else
                state = HD_GROUP_STATE_UNBOUND;
        group->state = state;

        /* The verdict: state.h, first match. */
        if (state == HD_GROUP_STATE_INTERRUPTED) {
                set_verdict(group, HD_VERDICT_INTERRUPTED,
                            g_strdup_printf("an interrupted operation left it as the crash did "
                                            "(journal /%s); run hostdev recover, which puts "
                                            "every device back on its original driver",
                                            journal));
        } else if (state == HD_GROUP_STATE_IN_USE) {
                g_autoptr(GString) s = g_string_new("in use by ");
                for (guint i = 0; i < group->holders->len; i++) {
                        g_autofree char *who = hd_holder_describe(group->holders->pdata[i]);
                        g_string_append_printf(s, "%s%s", i ? ", " : "", who);
                }
                g_string_append_printf(s,
                                       ", which holds /dev/vfio/%d open; shut the VM down "
                                       "before giving the devices back",
                                       group->number);
                set_verdict(group, HD_VERDICT_IN_USE, g_string_free(g_steal_pointer(&s), FALSE));
        } else if (state == HD_GROUP_STATE_NO_ENDPOINT ||
                   (group->verdict == HD_VERDICT_BOOT_GPU && boot_gpu_on_host)) {
                /* group.c's words stand */
        } else if (group->host_needs_it && group->host_use->len > 0) {
                g_autoptr(GString) s = g_string_new(group->verdict_text);
                g_string_append(s, "; but the host uses it (");
                for (guint i = 0; i < group->host_use->len; i++)
                        g_string_append_printf(s, "%s%s", i ? ", " : "",
                                               (char *)group->host_use->pdata[i]);
                g_string_append(s, "), so detach refuses it");
                set_verdict(group, HD_VERDICT_HOST_NEEDS_IT,
                            g_string_free(g_steal_pointer(&s), FALSE));
        } else if (state == HD_GROUP_STATE_PARTLY_DETACHED) {
                g_autoptr(GString) s = g_string_new("partly detached: ");
                const HdDevice *first = on_vfio->pdata[0];
                append_names(s, on_vfio);
                g_string_append(s, on_vfio->len > 1 ? " are" : " is");
                g_string_append(s, " on vfio, ");
                append_names(s, on_host);
                g_string_append(s, on_host->len > 1 ? " are" : " is");
                g_string_append_printf(s,
                                       " not, so no VM can have the group; finish with "
                                       "hostdev detach --group %s, or give it back with "
                                       "hostdev attach --group %s",
                                       first->name, first->name);
                set_verdict(group, HD_VERDICT_PARTLY_DETACHED,
                            g_string_free(g_steal_pointer(&s), FALSE));
        }
}

guint hd_state_evaluate_inventory(HdCtx *ctx, HdInventory *inv)
{
        g_autoptr(HdStateFacts) f = hd_state_facts_read(ctx);

        hd_state_evaluate_inventory_with(ctx, inv, f);
        return hd_state_facts_interrupted(f);
}

void hd_state_evaluate_inventory_with(HdCtx *ctx, HdInventory *inv, const HdStateFacts *f)
{
        for (guint i = 0; i < inv->groups->len; i++) {
                hd_group_evaluate(inv->groups->pdata[i], ctx);
                hd_state_apply_group(inv->groups->pdata[i], f);
        }
        for (guint i = 0; i < inv->devices->len; i++) {
                HdDevice *dev = inv->devices->pdata[i];
                if (dev->state < 0)
                        hd_state_apply_device(dev, f);
        }
}

static gint compare_ints(gconstpointer a, gconstpointer b)
{
        return *(const int *)a - *(const int *)b;
}

char *hd_state_facts_fingerprint(const HdStateFacts *f)
{
        g_autoptr(GArray) groups = g_array_new(FALSE, FALSE, sizeof(int));
        GHashTableIter it;
        gpointer key;
        GString *s = g_string_new(NULL);

        g_hash_table_iter_init(&it, f->holders);
        while (g_hash_table_iter_next(&it, &key, NULL)) {
                int g = GPOINTER_TO_INT(key);
                g_array_append_val(groups, g);
        }
        g_array_sort(groups, compare_ints);
        for (guint i = 0; i < groups->len; i++) {
                int g = g_array_index(groups, int, i);
                GPtrArray *holders = g_hash_table_lookup(f->holders, GINT_TO_POINTER(g));
                g_autoptr(GArray) pids = g_array_new(FALSE, FALSE, sizeof(int));

                for (guint k = 0; holders && k < holders->len; k++)
                        g_array_append_val(pids, ((const HdHolder *)holders->pdata[k])->pid);
                g_array_sort(pids, compare_ints);
                for (guint k = 0; k < pids->len; k++)
                        g_string_append_printf(s, "%d:%d,", g, g_array_index(pids, int, k));
        }
        g_string_append_c(s, '|');
        for (guint i = 0; f->pending && i < f->pending->len; i++) {
                const HdPendingOp *op = f->pending->pdata[i];
                g_string_append_printf(s, "%s=%s,", op->file,
                                       hd_pending_action_to_string(op->action));
        }
        return g_string_free(s, FALSE);
}

HdGroup *hd_iommu_group_load(HdCtx *ctx, HdDevice *dev, GPtrArray **members)
{
        g_autoptr(GArray) addrs = NULL;
        g_autoptr(HdStateFacts) facts = NULL;
        HdGroup *group;

        *members = g_ptr_array_new_with_free_func((GDestroyNotify)hd_device_free);
        if (dev->iommu_group < 0) {
                facts = hd_state_facts_read(ctx);
                hd_state_apply_device(dev, facts);
                return NULL;
        }
        addrs = hd_iommu_group_addresses(ctx, dev->iommu_group);
        group = hd_group_new(dev->iommu_group);
        for (guint i = 0; i < addrs->len; i++) {
                const HdAddress *a = &g_array_index(addrs, HdAddress, i);
                HdDevice *m;

                if (hd_address_equal(a, &dev->address)) {
                        g_ptr_array_add(group->members, dev);
                        continue;
                }
                m = hd_device_load(ctx, a, HD_FIELDS_LIST, NULL);
                if (m) {
                        g_ptr_array_add(*members, m);
                        g_ptr_array_add(group->members, m);
                }
        }
        hd_group_evaluate(group, ctx);
        facts = hd_state_facts_read(ctx);
        hd_state_apply_group(group, facts);
        return group;
}
