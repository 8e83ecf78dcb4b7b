/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Detach and attach as transactions. The lifecycle they implement, its edges and invariants
 * are documented in bind.h; the journal that makes them undoable in journal.h.
 *
 * Both operations run the same four phases:
 *   1. recover   finish or undo what an earlier, interrupted run left (journal.h);
 *   2. plan      the devices asked for, their group's other endpoints with --group, never a
 *                bridge; lock the groups;
 *   3. check     every device, every rule, before anything is written (B1); all refusals are
 *                reported together, one line each;
 *   4. write     journal first, then the sysfs writes one device at a time, each verified; on
 *                the first failure roll everything back in reverse order.
 */
#include "config.h"

#include <string.h>

#include "bind.h"
#include "fileio.h"
#include "group.h"
#include "hd-error.h"
#include "hint.h"
#include "inventory.h"
#include "journal.h"
#include "lock.h"
#include "persist.h"
#include "strarray.h"
#include "usage.h"

#define VFIO_DRIVER "vfio-pci"

static const char *const state_names[] = {
        [HD_DEVICE_STATE_HOST_DRIVER] = "host-driver",
        [HD_DEVICE_STATE_UNBOUND] = "unbound",
        [HD_DEVICE_STATE_VFIO_FREE] = "vfio-free",
        [HD_DEVICE_STATE_ASSIGNED] = "assigned",
};

const char *hd_device_state_to_string(HdDeviceState state)
{
        return (guint)state < G_N_ELEMENTS(state_names) ? state_names[state] : "unknown";
}

HdDeviceState hd_bind_get_state(HdCtx *ctx, const HdDevice *dev)
{
        g_autoptr(GPtrArray) holders = NULL;

        if (!dev->driver)
                return HD_DEVICE_STATE_UNBOUND;
        if (!hd_driver_is_viable(dev->driver))
                return HD_DEVICE_STATE_HOST_DRIVER;
        if (dev->iommu_group >= 0) {
                holders = hd_usage_group_holders(ctx, dev->iommu_group);
                if (holders->len > 0)
                        return HD_DEVICE_STATE_ASSIGNED;
        }
        return HD_DEVICE_STATE_VFIO_FREE;
}

static void bind_device_free(gpointer p)
{
        HdBindDevice *d = p;

        g_free(d->from_driver);
        g_free(d->to_driver);
        g_free(d);
}

void hd_bind_report_free(HdBindReport *report)
{
        if (!report)
                return;
        g_ptr_array_unref(report->devices);
        g_free(report);
}

static HdBindReport *report_new(HdCtx *ctx)
{
        HdBindReport *r = g_new0(HdBindReport, 1);

        r->devices = g_ptr_array_new_with_free_func(bind_device_free);
        r->dry_run = hd_ctx_get_dry_run(ctx);
        return r;
}

static HdBindDevice *report_add(HdBindReport *r, const HdDevice *dev, gboolean requested)
{
        HdBindDevice *d = g_new0(HdBindDevice, 1);

        g_strlcpy(d->name, dev->name, sizeof(d->name));
        d->group = dev->iommu_group;
        d->from_driver = g_strdup(dev->driver);
        d->requested = requested;
        g_ptr_array_add(r->devices, d);
        return d;
}

/* ---------------------------------------------------------------- planning */

typedef struct {
        HdDevice *dev; /* borrowed from the inventory */
        gboolean requested;
} PlanEntry;

static gboolean is_endpoint(const HdDevice *dev)
{
        return !hd_device_is_bridge(dev) && !hd_device_is_host_bridge(dev);
}

static gboolean plan_has(GArray *plan, const HdDevice *dev)
{
        for (guint i = 0; i < plan->len; i++)
                if (g_array_index(plan, PlanEntry, i).dev == dev)
                        return TRUE;
        return FALSE;
}

static gint compare_entries(gconstpointer a, gconstpointer b)
{
        const PlanEntry *x = a, *y = b;

        if (x->dev->iommu_group != y->dev->iommu_group)
                return x->dev->iommu_group < y->dev->iommu_group ? -1 : 1;
        return hd_address_compare(&x->dev->address, &y->dev->address);
}

/* The groups of @addresses, read from each device alone: what to lock before the scan. */
static GArray *groups_of(HdCtx *ctx, const HdAddress *addresses, guint n, GError **error)
{
        g_autoptr(GArray) groups = g_array_new(FALSE, FALSE, sizeof(int));

        for (guint i = 0; i < n; i++) {
                g_autoptr(HdDevice) dev = hd_device_load(ctx, &addresses[i], HD_FIELD_IOMMU,
                                                         error);
                if (!dev)
                        return NULL;
                g_array_append_val(groups, dev->iommu_group);
        }
        return g_steal_pointer(&groups);
}

/* "0000:01:00.1 (Audio device, snd_hda_intel)" */
static char *describe(const HdDevice *dev)
{
        g_autofree char *what = hd_device_describe(dev);

        return g_strdup_printf("%s (%s)", dev->name, what);
}

/* The words of the refusals that hd_bind_check_for_vm() shares with detach. */
static void refuse_bridge(const HdDevice *dev, const char *verb, GError **error)
{
        g_autofree char *d = describe(dev);

        g_set_error(error, HD_ERROR, HD_ERROR_REFUSED,
                    "%s is a %s: bridges stay on the host (the kernel accepts them in a group "
                    "given to a VM); %s the devices behind it",
                    d, hd_device_is_host_bridge(dev) ? "host bridge" : "PCI bridge", verb);
}

static char *no_iommu_text(HdCtx *ctx, const char *d)
{
        g_autofree char *check = hd_hint_command(ctx, HD_HINT_CMD_CHECK, NULL, FALSE, 0);

        return g_strdup_printf("%s has no IOMMU group: the kernel is not using an IOMMU, so no "
                               "VM can be given it; %s says what to change",
                               d, check);
}

/* With the framebuffer that shows the console when there is one (usage.h): the firmware's
 * (efifb, simplefb) is released only by kernel arguments, which the text names. */
static char *boot_vga_text(HdCtx *ctx, const HdDevice *dev, const char *d)
{
        g_autoptr(HdFramebuffer) fb = hd_usage_framebuffer(ctx, dev);
        g_autofree char *fb_text = fb ? hd_framebuffer_describe(ctx, fb) : NULL;

        return g_strdup_printf("%s is the boot VGA device (the host's console would go dark%s%s); "
                               "pass through another GPU, or pass %s if the host runs headless",
                               d, fb_text ? ": " : "", fb_text ? fb_text : "",
                               hd_hint_option(ctx, HD_HINT_FORCE));
}

/* Requested devices plus, with @whole_group, the other endpoints of their groups that
 * @want says should move. Bridges named by the caller are refused (B2). */
static GArray *make_plan(HdCtx *ctx, HdInventory *inv, const HdAddress *addresses, guint n,
                         gboolean whole_group, gboolean (*want)(const HdDevice *), const char *verb,
                         GError **error)
{
        g_autoptr(GArray) plan = g_array_new(FALSE, FALSE, sizeof(PlanEntry));

        for (guint i = 0; i < n; i++) {
                char name[HD_ADDRESS_STRLEN];
                HdDevice *dev = hd_inventory_lookup(inv, hd_address_format(&addresses[i], name));
                PlanEntry e = { dev, TRUE };

                if (!dev) {
                        g_autofree char *list =
                            hd_hint_command(ctx, HD_HINT_CMD_LIST, NULL, FALSE, 0);
                        g_set_error(error, HD_ERROR, HD_ERROR_NOT_FOUND,
                                    "no PCI device %s (%s shows the devices)", name, list);
                        return NULL;
                }
                if (!is_endpoint(dev)) {
                        refuse_bridge(dev, verb, error);
                        return NULL;
                }
                if (!plan_has(plan, dev))
                        g_array_append_val(plan, e);
        }
        if (whole_group) {
                guint n_requested = plan->len;
                for (guint i = 0; i < n_requested; i++) {
                        HdDevice *dev = g_array_index(plan, PlanEntry, i).dev;
                        HdGroup *group = hd_inventory_lookup_group(inv, dev->iommu_group);

                        for (guint k = 0; group && k < group->members->len; k++) {
                                HdDevice *m = group->members->pdata[k];
                                PlanEntry e = { m, FALSE };
                                if (is_endpoint(m) && want(m) && !plan_has(plan, m))
                                        g_array_append_val(plan, e);
                        }
                }
        }
        g_array_sort(plan, compare_entries);
        return g_steal_pointer(&plan);
}

/* With --group every endpoint goes to vfio-pci, driverless ones too: a VM can only be given
 * a function that is on vfio-pci (a GPU's audio function with snd_hda_intel not loaded is
 * still wanted in the guest), and a bound function cannot be grabbed by a host driver that
 * loads later. The exception is an idle function of bridge class (an LPC/ISA bridge beside
 * the chipset audio): nobody passes those through, and the kernel's rule is already met. */
static gboolean wants_detach(const HdDevice *dev)
{
        gboolean bridge_class = dev->class_code >= 0 && ((guint32)dev->class_code >> 16) == 0x06;

        return dev->driver != NULL || !bridge_class;
}

static gboolean wants_attach(const HdDevice *dev)
{
        return hd_driver_is_vfio(dev->driver);
}

/* What a plan is checked for. libvirt's managed='yes' detaches the listed devices when the
 * VM starts: the host-safety checks apply, group viability is the VM start's concern (and
 * hd_guest_check_devices() warns about it). A boot-time binding is checked as a detach, with
 * the group as it will be at boot. */
typedef enum {
        CHECK_DETACH,
        CHECK_PERSIST,
        CHECK_MANAGED,
} CheckMode;

/* Whether group member @m, outside the plan, keeps the group from being viable: now (on a
 * host driver), or for CHECK_PERSIST at boot (on a host driver, or on vfio-pci now without a
 * boot-time binding of its own, so back on its host driver after a reboot). */
static gboolean member_in_the_way(HdCtx *ctx, const HdDevice *m, CheckMode mode)
{
        if (!is_endpoint(m))
                return FALSE;
        if (mode == CHECK_PERSIST && hd_driver_is_vfio(m->driver))
                return !hd_persist_has(ctx, m->name);
        return !hd_driver_is_viable(m->driver);
}

/* Without --group: a group is refused when an endpoint outside the plan keeps it from being
 * viable, naming the members that must move too. The way forward is --group only when the
 * whole group passes the checks (hint.h H2): @whole_refused is that plan's refusal, NULL when
 * it passes; @error may be NULL to ask only whether the plan is viable. */
static gboolean check_viability(HdCtx *ctx, HdInventory *inv, GArray *plan, CheckMode mode,
                                const GError *whole_refused, GError **error)
{
        const char *verb = mode == CHECK_PERSIST ? "bind at boot" : "detach";
        g_autoptr(GString) msg = g_string_new(NULL);

        for (guint i = 0; i < plan->len; i++) {
                PlanEntry *e = &g_array_index(plan, PlanEntry, i);
                HdGroup *group = hd_inventory_lookup_group(inv, e->dev->iommu_group);
                g_autoptr(GPtrArray) outside = g_ptr_array_new();
                g_autoptr(GString) who = g_string_new(NULL);
                gboolean seen = FALSE;

                if (!group)
                        continue;
                /* one message per group */
                for (guint k = 0; k < i; k++)
                        if (g_array_index(plan, PlanEntry, k).dev->iommu_group == group->number)
                                seen = TRUE;
                if (seen)
                        continue;
                for (guint k = 0; k < group->members->len; k++) {
                        HdDevice *m = group->members->pdata[k];
                        if (member_in_the_way(ctx, m, mode) && !plan_has(plan, m))
                                g_ptr_array_add(outside, m);
                }
                if (outside->len == 0)
                        continue;
                for (guint k = 0; k < outside->len; k++) {
                        g_autofree char *d = describe(outside->pdata[k]);
                        if (k)
                                g_string_append(who, k + 1 == outside->len ? " and " : ", ");
                        g_string_append(who, d);
                }
                if (msg->len)
                        g_string_append_c(msg, '\n');
                if (whole_refused)
                        g_string_append_printf(msg,
                                               "%s %s IOMMU group %d with %s, and to %s the whole "
                                               "group is refused too:",
                                               who->str, outside->len > 1 ? "share" : "shares",
                                               group->number, e->dev->name, verb);
                else
                        g_string_append_printf(msg,
                                               "%s %s IOMMU group %d with %s; %s the whole group "
                                               "with %s",
                                               who->str, outside->len > 1 ? "share" : "shares",
                                               group->number, e->dev->name, verb,
                                               hd_hint_option(ctx, HD_HINT_GROUP));
        }
        if (msg->len && whole_refused)
                g_string_append_printf(msg, "\n%s", whole_refused->message);
        if (msg->len) {
                g_set_error_literal(error, HD_ERROR, HD_ERROR_REFUSED, msg->str);
                return FALSE;
        }
        return TRUE;
}

/* ---------------------------------------------------------------- checks */

static void refuse(GString *msg, const char *format, ...) G_GNUC_PRINTF(2, 3);
static void refuse(GString *msg, const char *format, ...)
{
        va_list ap;

        if (msg->len)
                g_string_append_c(msg, '\n');
        va_start(ap, format);
        g_string_append_vprintf(msg, format, ap);
        va_end(ap);
}

/* A NIC is judged by everything stacked on it (usage.h): the port of a bridge that carries
 * the default route is the default-route NIC, and the refusal names the chain. */
static void check_network(HdCtx *ctx, const HdDevice *dev, const char *d, guint force,
                          GString *msg)
{
        for (guint i = 0; i < dev->netdevs->len; i++) {
                const char *ifname = dev->netdevs->pdata[i];
                g_autoptr(HdNetUsage) u = hd_usage_netdev_full(ctx, ifname);
                const HdNetHop *first = u->via->len ? u->via->pdata[0] : NULL;
                /* a bridge, bond or team keeps the route when it has another port */
                gboolean ported =
                    first && (strcmp(first->kind, "bridge") == 0 ||
                              strcmp(first->kind, "bond") == 0 || strcmp(first->kind, "team") == 0);
                /* "X is enp2s0, which carries ..." or "X: enp3s0f0 is a port of bridge vmbr0,
                 * which carries ..." */
                g_autofree char *what =
                    u->use == HD_NET_IDLE ? NULL
                    : first               ? g_strdup_printf("%s: %s", d, u->text)
                            : g_strdup_printf("%s is %s, which %s", d, ifname, u->detail);

                if (u->use == HD_NET_DEFAULT_ROUTE && force < 2)
                        refuse(msg,
                               "%s: detaching it cuts the host off the network; move the route "
                               "to another interface%s%s%s first, or pass %s",
                               what, ported ? " or give " : "", ported ? first->ifname : "",
                               ported ? " another port" : "",
                               hd_hint_option(ctx, HD_HINT_FORCE_TWICE));
                else if (u->use == HD_NET_ADDRESS && force < 1)
                        refuse(msg,
                               "%s: the host is using it; take the interface down first (ip link "
                               "set %s down), or pass %s",
                               what, u->carrier, hd_hint_option(ctx, HD_HINT_FORCE));
        }
}

/* Processes holding the GPU's nodes: unbinding a DRM or nvidia driver under a display server
 * or nvidia-persistenced is the classic host hang (the driver's remove waits for them, or
 * they crash the session). Overridable only with --force twice. */
static void check_gpu_clients(HdCtx *ctx, const HdDevice *dev, const char *d, guint force,
                              GString *msg)
{
        g_autoptr(GPtrArray) clients = NULL;
        g_autofree char *list = NULL;

        if (force >= 2)
                return;
        clients = hd_usage_gpu_clients(ctx, dev);
        if (clients->len == 0)
                return;
        list = hd_usage_gpu_clients_text(clients);
        refuse(msg,
               "%s is in use: %s; unbinding %s under them can hang the host or its session; stop "
               "them first (the display manager: systemctl stop display-manager; "
               "nvidia-persistenced: systemctl stop nvidia-persistenced), or pass %s",
               d, list, dev->driver ? dev->driver : "its driver",
               hd_hint_option(ctx, HD_HINT_FORCE_TWICE));
}

/* What the host does with the controller's disks (usage.h, HdBlockUse): mounts and swap, and
 * what is stacked on them even with nothing mounted (an LVM volume group a VM's disks live on,
 * an md array, a multipath map, a dm-crypt mapping): unbinding the controller pulls the disks
 * out from under all of them. The root filesystem is never overridable. */
static void check_storage(HdCtx *ctx, const HdDevice *dev, const char *d, guint force,
                          GString *msg)
{
        g_autoptr(GPtrArray) uses = g_ptr_array_new_with_free_func(g_free);
        g_autoptr(GPtrArray) holders = g_ptr_array_new_with_free_func(g_free);
        g_autofree char *list = NULL;
        gboolean is_root = FALSE;

        for (guint i = 0; i < dev->blockdevs->len; i++) {
                g_autoptr(HdBlockUse) u = hd_usage_blockdev_full(ctx, dev->blockdevs->pdata[i]);

                for (guint k = 0; k < u->uses->len; k++)
                        hd_str_array_add_unique(uses, u->uses->pdata[k]);
                for (guint k = 0; k < u->holders->len; k++)
                        hd_str_array_add_unique(holders, u->holders->pdata[k]);
                is_root |= u->root;
        }
        if (uses->len == 0 && holders->len == 0)
                return;
        if (is_root) {
                /* The root filesystem is not overridable: the host would lose itself mid-command. */
                list = hd_str_array_join(uses, ", ");
                refuse(msg,
                       "%s holds the host's root filesystem (%s): the host cannot run without "
                       "it; pass through another controller",
                       d, list);
        } else if (force >= 1) {
                return;
        } else if (uses->len) {
                list = hd_str_array_join(uses, ", ");
                refuse(msg,
                       "%s holds filesystems or swap in use (%s); unmount them (or swapoff) "
                       "first, or pass %s",
                       d, list, hd_hint_option(ctx, HD_HINT_FORCE));
        } else {
                list = hd_str_array_join(holders, ", ");
                refuse(msg,
                       "%s holds disks the host has stacked block devices on (%s), with nothing "
                       "mounted; deactivate them first (LVM: vgchange -an VG; md: mdadm --stop "
                       "/dev/mdN; multipath: multipath -f MAP; dm-crypt: cryptsetup close NAME), "
                       "or pass %s",
                       d, list, hd_hint_option(ctx, HD_HINT_FORCE));
        }
}

static gboolean check_detach(HdCtx *ctx, GArray *plan, guint force, GError **error)
{
        g_autoptr(GString) msg = g_string_new(NULL);
        g_autoptr(GString) busy = g_string_new(NULL);
        g_autoptr(GArray) groups_seen = g_array_new(FALSE, FALSE, sizeof(int));

        for (guint i = 0; i < plan->len; i++) {
                HdDevice *dev = g_array_index(plan, PlanEntry, i).dev;
                g_autoptr(HdDevice) full = NULL;
                g_autofree char *d = describe(dev);
                gboolean seen = FALSE;

                for (guint k = 0; k < groups_seen->len; k++)
                        if (g_array_index(groups_seen, int, k) == dev->iommu_group)
                                seen = TRUE;
                if (!seen && dev->iommu_group >= 0) {
                        g_autoptr(GPtrArray) holders = NULL;
                        gboolean changes = FALSE;

                        /* A group already on vfio-pci and in use by a VM is where detach would
                         * put it: nothing to write, so nothing to refuse (state.h, in-use). */
                        for (guint k = 0; k < plan->len; k++) {
                                HdDevice *o = g_array_index(plan, PlanEntry, k).dev;
                                if (o->iommu_group == dev->iommu_group &&
                                    !hd_driver_is_vfio(o->driver))
                                        changes = TRUE;
                        }
                        g_array_append_val(groups_seen, dev->iommu_group);
                        holders = changes ? hd_usage_group_holders(ctx, dev->iommu_group)
                                          : g_ptr_array_new();
                        if (holders->len > 0)
                                refuse(busy,
                                       "IOMMU group %d of %s is held open by process %s (a VM "
                                       "is using it); shut the VM down first",
                                       dev->iommu_group, dev->name, (char *)holders->pdata[0]);
                }
                if (hd_driver_is_vfio(dev->driver))
                        continue; /* already there: left as is */
                if (dev->iommu_group < 0) {
                        g_autofree char *text = no_iommu_text(ctx, d);
                        refuse(msg, "%s", text);
                        continue;
                }
                if (hd_device_is_boot_vga(dev) && force < 1) {
                        g_autofree char *text = boot_vga_text(ctx, dev, d);
                        refuse(msg, "%s", text);
                } else if (hd_device_is_boot_vga(dev)) {
                        g_autoptr(HdFramebuffer) fb = hd_usage_framebuffer(ctx, dev);
                        if (fb && fb->firmware && !fb->release_in_cmdline &&
                            !fb->release_configured) {
                                g_autofree char *fb_text = hd_framebuffer_describe(ctx, fb);
                                hd_ctx_log(ctx, HD_LOG_WARNING, "%s: %s", dev->name, fb_text);
                        }
                }
                if (dev->sriov_numvfs > 0)
                        refuse(msg,
                               "%s is an SR-IOV physical function with %d VFs enabled; detach "
                               "the VFs instead, or disable them first (echo 0 > "
                               "/sys/bus/pci/devices/%s/sriov_numvfs)",
                               d, dev->sriov_numvfs, dev->name);
                full = hd_device_load(ctx, &dev->address, HD_FIELD_USERS, NULL);
                if (!full)
                        continue;
                check_network(ctx, full, d, force, msg);
                check_storage(ctx, full, d, force, msg);
                check_gpu_clients(ctx, dev, d, force, msg);
        }
        if (busy->len) {
                g_set_error_literal(error, HD_ERROR, HD_ERROR_BUSY, busy->str);
                return FALSE;
        }
        if (msg->len) {
                g_set_error_literal(error, HD_ERROR, HD_ERROR_REFUSED, msg->str);
                return FALSE;
        }
        return TRUE;
}

static gboolean check_attach(HdCtx *ctx, GArray *plan, GError **error)
{
        g_autoptr(GString) busy = g_string_new(NULL);

        for (guint i = 0; i < plan->len; i++) {
                HdDevice *dev = g_array_index(plan, PlanEntry, i).dev;
                g_autoptr(GPtrArray) holders = NULL;

                if (dev->iommu_group < 0 || !hd_driver_is_vfio(dev->driver))
                        continue;
                holders = hd_usage_group_holders(ctx, dev->iommu_group);
                if (holders->len > 0 && !strstr(busy->str, dev->name))
                        refuse(busy,
                               "%s: IOMMU group %d is held open by process %s (a VM is using "
                               "it); shut the VM down before giving the device back",
                               dev->name, dev->iommu_group, (char *)holders->pdata[0]);
        }
        if (busy->len) {
                g_set_error_literal(error, HD_ERROR, HD_ERROR_BUSY, busy->str);
                return FALSE;
        }
        return TRUE;
}

/* Phases 2 and 3 of a detach (and of what stands for one: a boot-time binding, libvirt's
 * managed detach): the one place where the rules are applied. */
static GArray *plan_and_check(HdCtx *ctx, HdInventory *inv, const HdAddress *addresses, guint n,
                              const HdBindOptions *opts, CheckMode mode, GError **error)
{
        g_autoptr(GArray) plan =
            make_plan(ctx, inv, addresses, n, opts->group, wants_detach,
                      mode == CHECK_PERSIST ? "bind at boot" : "detach", error);

        if (!plan)
                return NULL;
        if (!opts->group && mode != CHECK_MANAGED &&
            !check_viability(ctx, inv, plan, mode, NULL, NULL)) {
                /* suggest --group only when the whole group would pass */
                g_autoptr(GError) whole_refused = NULL;
                g_autoptr(GArray) whole =
                    make_plan(ctx, inv, addresses, n, TRUE, wants_detach, "detach", &whole_refused);
                if (whole)
                        (void)check_detach(ctx, whole, opts->force, &whole_refused);
                (void)check_viability(ctx, inv, plan, mode, whole_refused, error);
                return NULL;
        }
        if (!check_detach(ctx, plan, opts->force, error))
                return NULL;
        return g_steal_pointer(&plan);
}

static gboolean check_only(HdCtx *ctx, const HdAddress *addresses, guint n,
                           const HdBindOptions *opts, CheckMode mode, GError **error)
{
        g_autoptr(HdInventory) inv = hd_inventory_scan(ctx, HD_FIELDS_LIST, error);
        g_autoptr(GArray) plan = NULL;

        if (!inv)
                return FALSE;
        plan = plan_and_check(ctx, inv, addresses, n, opts, mode, error);
        return plan != NULL;
}

gboolean hd_bind_check_detach(HdCtx *ctx, const HdAddress *addresses, guint n,
                              const HdBindOptions *opts, GError **error)
{
        return check_only(ctx, addresses, n, opts, CHECK_DETACH, error);
}

gboolean hd_bind_check_managed(HdCtx *ctx, const HdAddress *addresses, guint n, guint force,
                               GError **error)
{
        HdBindOptions opts = {.force = force};

        return check_only(ctx, addresses, n, &opts, CHECK_MANAGED, error);
}

char *hd_bind_suggest_detach(HdCtx *ctx, const HdAddress *address, gboolean *needs_group,
                             GError **error)
{
        HdBindOptions alone = {0};
        HdBindOptions group = {.group = TRUE};
        g_autoptr(GError) alone_refused = NULL;
        char name[HD_ADDRESS_STRLEN];

        hd_address_format(address, name);
        if (needs_group)
                *needs_group = FALSE;
        if (check_only(ctx, address, 1, &alone, CHECK_DETACH, &alone_refused))
                return hd_hint_command(ctx, HD_HINT_CMD_DETACH, name, FALSE, 0);
        if (check_only(ctx, address, 1, &group, CHECK_DETACH, NULL)) {
                if (needs_group)
                        *needs_group = TRUE;
                return hd_hint_command(ctx, HD_HINT_CMD_DETACH, name, TRUE, 0);
        }
        /* the device alone's refusal tells the whole story: its own checks, or the group's
         * members and why the whole group is refused too */
        g_propagate_error(error, g_steal_pointer(&alone_refused));
        return NULL;
}

/* ---------------------------------------------------------------- writing */

typedef struct {
        HdCtx *ctx;
        HdJournal *journal; /* NULL in a dry run */
        guint next_step;
} Tx;

/* One planned write of device @who, marked done in the journal once made. */
static gboolean tx_write(Tx *tx, const char *who, const char *path, const char *value,
                         GError **error)
{
        if (!hd_ctx_write(tx->ctx, path, value, error)) {
                g_prefix_error(error, "%s: ", who);
                return FALSE;
        }
        if (tx->journal && tx->next_step < tx->journal->steps->len &&
            !hd_journal_step_done(tx->journal, tx->next_step, error))
                return FALSE;
        tx->next_step++;
        return TRUE;
}

/* Turn @cause into the caller's error after rolling back. */
static void fail_and_roll_back(Tx *tx, GError *cause, GError **error)
{
        g_autoptr(GError) rb = NULL;
        g_autoptr(GError) owned = cause;

        if (!tx->journal) {
                g_propagate_error(error, g_steal_pointer(&owned));
                return;
        }
        if (hd_journal_rollback(tx->journal, &rb))
                g_set_error(error, HD_ERROR, HD_ERROR_FAILED,
                            "%s; rolled back: every device is on its original driver again "
                            "(dmesg may say more; retry when the cause is gone)",
                            cause->message);
        else
                g_set_error(error, HD_ERROR, HD_ERROR_FAILED, "%s; %s", cause->message,
                            rb->message);
}

static char *reload_driver(HdCtx *ctx, const HdDevice *dev)
{
        g_autoptr(HdDevice) now = hd_device_load(ctx, &dev->address, HD_FIELD_DRIVER, NULL);

        return now ? g_strdup(now->driver) : NULL;
}

static char *attr_path(const HdDevice *dev, const char *attr)
{
        return hd_device_attr_path(&dev->address, attr);
}

static char *driver_file(const char *driver, const char *file)
{
        return g_strdup_printf("sys/bus/pci/drivers/%s/%s", driver, file);
}

static GPtrArray *plan_names(GArray *plan)
{
        GPtrArray *names = g_ptr_array_new();

        for (guint i = 0; i < plan->len; i++)
                g_ptr_array_add(names, g_array_index(plan, PlanEntry, i).dev->name);
        return names;
}

/* Phase 1: recover what a crash left. A journal that cannot be recovered stops the transaction
 * only when it names one of @groups (journal.h J6). A dry run runs the same recovery as a dry
 * run (its writes come first in the write log, report->recovery_writes of them), and then
 * plans on the devices as recovery will leave them (predict_recovery()): the plan shown is the
 * plan the real run follows. */
static gboolean start(HdCtx *ctx, HdBindReport *report, GArray *groups, GError **error)
{
        gboolean ok = hd_journal_recover_for(ctx, groups, &report->recovered, error);

        report->recovery_writes = hd_ctx_get_write_log(ctx)->len;
        if (ok && hd_ctx_get_dry_run(ctx) && report->recovered > 0)
                hd_ctx_log(ctx, HD_LOG_WARNING,
                           "%u interrupted operation%s will be rolled back first by the real run "
                           "(the first %u writes below; hostdev recover --dry-run shows them)",
                           report->recovered, report->recovered == 1 ? "" : "s",
                           report->recovery_writes);
        return ok;
}

/* In a dry run nothing was recovered: give the devices of @inv the drivers recovery will
 * return them to (journal.h J4: every device of a rolled-back transaction goes back to its
 * original driver and override; a finished one stays where it is). */
static void predict_recovery(HdCtx *ctx, HdInventory *inv)
{
        g_autoptr(GPtrArray) pending = NULL;

        if (!hd_ctx_get_dry_run(ctx))
                return;
        pending = hd_journal_list_pending(ctx);
        for (guint i = 0; i < pending->len; i++) {
                const HdPendingOp *op = pending->pdata[i];

                if (op->action != HD_PENDING_ROLL_BACK)
                        continue;
                for (guint k = 0; k < op->devices->len; k++) {
                        const HdJournalDevice *d = op->devices->pdata[k];
                        HdDevice *dev = hd_inventory_lookup(inv, d->name);

                        if (!dev)
                                continue;
                        g_free(dev->driver);
                        dev->driver = g_strdup(d->original_driver);
                        g_free(dev->driver_override);
                        dev->driver_override = g_strdup(d->original_override);
                }
        }
        for (guint i = 0; i < inv->groups->len; i++)
                hd_group_evaluate(inv->groups->pdata[i], NULL);
}

HdBindReport *hd_bind_detach(HdCtx *ctx, const HdAddress *addresses, guint n,
                             const HdBindOptions *opts, GError **error)
{
        g_autoptr(HdBindReport) report = report_new(ctx);
        g_autoptr(GArray) groups = NULL;
        g_autoptr(HdGroupLocks) locks = NULL;
        g_autoptr(HdInventory) inv = NULL;
        g_autoptr(GArray) plan = NULL;
        g_autoptr(HdJournal) journal = NULL;
        g_autoptr(GPtrArray) changing = g_ptr_array_new();
        gboolean dry = hd_ctx_get_dry_run(ctx);
        Tx tx = { ctx, NULL, 0 };

        if (!(groups = groups_of(ctx, addresses, n, error)))
                return NULL;
        if (!start(ctx, report, groups, error))
                return NULL;
        if (!dry && !(locks = hd_group_locks_acquire(ctx, groups, error)))
                return NULL;
        if (!(inv = hd_inventory_scan(ctx, HD_FIELDS_LIST, error)))
                return NULL;
        predict_recovery(ctx, inv);
        /* --group may pull in members of groups not locked yet: none, since members share
         * the group of the device that pulled them in. With persist, the group must also be
         * viable at the next boot. */
        if (!(plan = plan_and_check(ctx, inv, addresses, n, opts,
                                    opts->persist ? CHECK_PERSIST : CHECK_DETACH, error)))
                return NULL;

        journal = dry ? NULL : hd_journal_new(ctx, HD_TX_DETACH);
        for (guint i = 0; i < plan->len; i++) {
                PlanEntry *e = &g_array_index(plan, PlanEntry, i);
                HdBindDevice *rd = report_add(report, e->dev, e->requested);

                if (hd_driver_is_vfio(e->dev->driver)) {
                        rd->to_driver = g_strdup(e->dev->driver);
                        continue;
                }
                rd->changed = TRUE;
                rd->to_driver = g_strdup(VFIO_DRIVER);
                g_ptr_array_add(changing, e->dev);
                if (journal) {
                        g_autofree char *ov = attr_path(e->dev, "driver_override");
                        g_autofree char *unbind = e->dev->driver
                                                          ? driver_file(e->dev->driver, "unbind")
                                                          : NULL;
                        hd_journal_add_device(journal, e->dev->name, e->dev->iommu_group,
                                              e->dev->driver, e->dev->driver_override,
                                              VFIO_DRIVER);
                        hd_journal_add_step(journal, ov, VFIO_DRIVER);
                        if (unbind)
                                hd_journal_add_step(journal, unbind, e->dev->name);
                        hd_journal_add_step(journal, "sys/bus/pci/drivers_probe", e->dev->name);
                }
        }

        if (changing->len > 0) {
                gboolean need_module = !hd_exists_at(hd_ctx_get_root_fd(ctx),
                                                     "sys/bus/pci/drivers/" VFIO_DRIVER, FALSE);

                if (journal && !hd_journal_begin(journal, error))
                        return NULL;
                tx.journal = journal;
                if (need_module) {
                        GError *local = NULL;
                        if (!hd_ctx_load_module(ctx, VFIO_DRIVER, &local)) {
                                GError *cause = g_error_new(
                                        HD_ERROR, HD_ERROR_FAILED,
                                        "vfio-pci is not available (%s); install the kernel's vfio "
                                        "modules or build them in",
                                        local->message);
                                g_error_free(local);
                                fail_and_roll_back(&tx, cause, error);
                                return NULL;
                        }
                }
                for (guint i = 0; i < changing->len; i++) {
                        HdDevice *dev = changing->pdata[i];
                        g_autofree char *ov = attr_path(dev, "driver_override");
                        GError *local = NULL;

                        if (!tx_write(&tx, dev->name, ov, VFIO_DRIVER, &local)) {
                                fail_and_roll_back(&tx, local, error);
                                return NULL;
                        }
                        if (dev->driver) {
                                g_autofree char *unbind = driver_file(dev->driver, "unbind");
                                if (!tx_write(&tx, dev->name, unbind, dev->name, &local)) {
                                        fail_and_roll_back(&tx, local, error);
                                        return NULL;
                                }
                        }
                        if (!tx_write(&tx, dev->name, "sys/bus/pci/drivers_probe", dev->name,
                                      &local)) {
                                fail_and_roll_back(&tx, local, error);
                                return NULL;
                        }
                        if (!dry) {
                                g_autofree char *now = reload_driver(ctx, dev);
                                if (!hd_driver_is_vfio(now)) {
                                        g_autofree char *d = describe(dev);
                                        local = g_error_new(
                                                HD_ERROR, HD_ERROR_FAILED,
                                                "%s did not bind to vfio-pci (it has %s after "
                                                "drivers_probe; dmesg says why)",
                                                d, now ? now : "no driver");
                                        fail_and_roll_back(&tx, local, error);
                                        return NULL;
                                }
                        }
                }
                if (journal && !hd_journal_commit(journal, error))
                        return NULL;
                /* committed: a caller that records the result (the agent's VM start) must
                 * survive a crash here */
                hd_ctx_crash_point(ctx);
        }

        if (opts->persist) {
                g_autoptr(GPtrArray) names = plan_names(plan);
                GError *local = NULL;

                if (!hd_persist_add(ctx, names, VFIO_DRIVER, &local)) {
                        g_set_error(error, HD_ERROR, HD_ERROR_FAILED,
                                    "the devices are on vfio-pci, but the boot-time binding was "
                                    "not installed: %s",
                                    local->message);
                        g_error_free(local);
                        return NULL;
                }
                report->persisted = TRUE;
        }
        return g_steal_pointer(&report);
}

HdBindReport *hd_bind_persist(HdCtx *ctx, const HdAddress *addresses, guint n,
                              const HdBindOptions *opts, GError **error)
{
        const char *driver = opts->driver ? opts->driver : VFIO_DRIVER;
        /* a driver VFIO can use makes the group a VM's: the group's rules; any other driver
         * (driverctl's overrides) only the host's safety */
        CheckMode mode = hd_driver_is_viable(driver) ? CHECK_PERSIST : CHECK_MANAGED;
        g_autoptr(HdBindReport) report = report_new(ctx);
        g_autoptr(HdInventory) inv = NULL;
        g_autoptr(GArray) plan = NULL;
        g_autoptr(GPtrArray) names = g_ptr_array_new();

        if (!hd_driver_available(ctx, driver)) {
                char first[HD_ADDRESS_STRLEN];
                hd_address_format(&addresses[0], first);
                g_set_error(error, HD_ERROR, HD_ERROR_NOT_FOUND,
                            "no PCI driver %s on this host (not registered, not a module of the "
                            "running kernel); hostdev show %s lists the modules that could drive "
                            "the device",
                            hd_driver_name_is_valid(driver) ? driver : "(invalid name)", first);
                return NULL;
        }
        inv = hd_inventory_scan(ctx, HD_FIELDS_LIST, error);
        if (!inv || !(plan = plan_and_check(ctx, inv, addresses, n, opts, mode, error)))
                return NULL;
        for (guint i = 0; i < plan->len; i++) {
                PlanEntry *e = &g_array_index(plan, PlanEntry, i);
                HdBindDevice *rd = report_add(report, e->dev, e->requested);
                g_autofree char *now = hd_persist_get_driver(ctx, e->dev->name);

                rd->to_driver = g_strdup(driver);
                rd->changed = g_strcmp0(now, driver) != 0;
                if (rd->changed)
                        g_ptr_array_add(names, e->dev->name);
        }
        if (names->len > 0 && !hd_persist_add(ctx, names, driver, error))
                return NULL;
        report->persisted = TRUE;
        return g_steal_pointer(&report);
}

/* Attach one device: override back, unbind vfio, reprobe, then make sure it is on @target. */
static gboolean attach_one(Tx *tx, const HdDevice *dev, const char *target, const char *override,
                           gboolean forced, GError **error)
{
        HdCtx *ctx = tx->ctx;
        g_autofree char *ov = attr_path(dev, "driver_override");
        g_autofree char *unbind = driver_file(dev->driver, "unbind");
        g_autofree char *now = NULL;
        g_autofree char *bind = NULL;
        g_autofree char *ddir = NULL;

        if (!tx_write(tx, dev->name, ov, override ? override : "\n", error) ||
            !tx_write(tx, dev->name, unbind, dev->name, error) ||
            !tx_write(tx, dev->name, "sys/bus/pci/drivers_probe", dev->name, error))
                return FALSE;
        if (hd_ctx_get_dry_run(ctx) || !target)
                return TRUE;
        now = reload_driver(ctx, dev);
        if (g_strcmp0(now, target) == 0)
                return TRUE;
        if (forced) {
                g_autofree char *d = describe(dev);
                g_set_error(error, HD_ERROR, HD_ERROR_FAILED,
                            "%s did not bind to %s (it has %s after drivers_probe; dmesg says "
                            "why)",
                            d, target, now ? now : "no driver");
                return FALSE;
        }
        /* The probe chose another driver, or none: bind the one it came from. */
        if (now) {
                g_autofree char *other = driver_file(now, "unbind");
                if (!hd_ctx_write(ctx, other, dev->name, error))
                        return FALSE;
        }
        ddir = g_strdup_printf("sys/bus/pci/drivers/%s", target);
        if (!hd_exists_at(hd_ctx_get_root_fd(ctx), ddir, FALSE) &&
            !hd_ctx_load_module(ctx, target, error))
                return FALSE;
        bind = driver_file(target, "bind");
        if (!hd_ctx_write(ctx, bind, dev->name, error))
                return FALSE;
        g_free(now);
        now = reload_driver(ctx, dev);
        if (g_strcmp0(now, target) != 0) {
                g_autofree char *d = describe(dev);
                g_set_error(error, HD_ERROR, HD_ERROR_FAILED, "%s did not bind to %s (it has %s)",
                            d, target, now ? now : "no driver");
                return FALSE;
        }
        return TRUE;
}

/* Whether a modules.dep or modules.builtin text names module @mod ('-' and '_' alike, as
 * modprobe takes them; "kernel/drivers/x/foo-bar.ko.xz: ..." names foo_bar). */
static gboolean module_list_names(const char *list, const char *mod)
{
        g_auto(GStrv) lines = NULL;

        if (!list)
                return FALSE;
        lines = g_strsplit(list, "\n", -1);
        for (char **l = lines; *l; l++) {
                char *colon = strchr(*l, ':');
                char *slash, *dot;

                if (colon)
                        *colon = '\0';
                slash = strrchr(*l, '/');
                slash = slash ? slash + 1 : *l;
                dot = strstr(slash, ".ko");
                if (!dot)
                        continue;
                *dot = '\0';
                g_strdelimit(slash, "-", '_');
                if (strcmp(slash, mod) == 0)
                        return TRUE;
        }
        return FALSE;
}

/* attach --driver NAME: NAME must be registered with the PCI core (sys/bus/pci/drivers/NAME)
 * or be a module or built-in of the running kernel, or the attach would unbind the devices
 * and then fail. Checked before anything is written; the answer names the drivers there are. */
static gboolean check_driver_exists(HdCtx *ctx, const char *driver, GError **error)
{
        int root = hd_ctx_get_root_fd(ctx);
        g_autofree char *ddir = g_strdup_printf("sys/bus/pci/drivers/%s", driver);
        g_autofree char *release = NULL, *mod = NULL, *dep = NULL, *builtin = NULL;
        g_autoptr(GPtrArray) names = NULL;
        g_autoptr(GString) list = g_string_new(NULL);

        if (hd_exists_at(root, ddir, FALSE))
                return TRUE;
        release = hd_read_attr_optional_at(root, "proc/sys/kernel/osrelease");
        mod = g_strdelimit(g_strdup(driver), "-", '_');
        /* the release names a directory: one path component */
        if (release && *release && !strchr(release, '/') && strcmp(release, ".") != 0 &&
            strcmp(release, "..") != 0) {
                g_autofree char *dep_path = g_strdup_printf("lib/modules/%s/modules.dep", release);
                g_autofree char *bi_path =
                    g_strdup_printf("lib/modules/%s/modules.builtin", release);
                dep = hd_read_file_at(root, dep_path, 1 << 24, NULL);
                builtin = hd_read_file_at(root, bi_path, 1 << 24, NULL);
        }
        if (module_list_names(dep, mod) || module_list_names(builtin, mod))
                return TRUE;
        names = hd_list_dir_at(root, "sys/bus/pci/drivers", NULL);
        for (guint i = 0; names && i < names->len && i < 40; i++)
                g_string_append_printf(list, "%s%s", i ? ", " : "", (char *)names->pdata[i]);
        if (names && names->len > 40)
                g_string_append(list, ", …");
        g_set_error(error, HD_ERROR, HD_ERROR_INVALID_ARGUMENT,
                    "there is no PCI driver %s: it is not registered (%s) and %s; name one of "
                    "those, or leave the driver out to give the devices back to the driver they "
                    "had before detach",
                    driver, list->len ? list->str : "sys/bus/pci/drivers is empty",
                    dep || builtin ? "the running kernel has no module of that name"
                                   : "the running kernel's module lists are missing");
        return FALSE;
}

HdBindReport *hd_bind_attach(HdCtx *ctx, const HdAddress *addresses, guint n,
                             const HdBindOptions *opts, GError **error)
{
        g_autoptr(HdBindReport) report = report_new(ctx);
        g_autoptr(GArray) groups = NULL;
        g_autoptr(HdGroupLocks) locks = NULL;
        g_autoptr(HdInventory) inv = NULL;
        g_autoptr(GArray) plan = NULL;
        g_autoptr(HdJournal) journal = NULL;
        g_autoptr(GPtrArray) targets = g_ptr_array_new_with_free_func(g_free);
        g_autoptr(GPtrArray) overrides = g_ptr_array_new_with_free_func(g_free);
        gboolean dry = hd_ctx_get_dry_run(ctx);
        Tx tx = { ctx, NULL, 0 };
        guint n_changing = 0;

        if (opts->driver && !hd_driver_name_is_valid(opts->driver)) {
                g_set_error(error, HD_ERROR, HD_ERROR_INVALID_ARGUMENT,
                            "%s is not a driver name (ls /sys/bus/pci/drivers lists them)",
                            opts->driver);
                return NULL;
        }
        /* before recovery, the journal or any write: a driver that cannot exist */
        if (opts->driver && !check_driver_exists(ctx, opts->driver, error))
                return NULL;
        if (!(groups = groups_of(ctx, addresses, n, error)))
                return NULL;
        if (!start(ctx, report, groups, error))
                return NULL;
        if (!dry && !(locks = hd_group_locks_acquire(ctx, groups, error)))
                return NULL;
        if (!(inv = hd_inventory_scan(ctx, HD_FIELDS_LIST, error)))
                return NULL;
        predict_recovery(ctx, inv);
        if (!(plan = make_plan(ctx, inv, addresses, n, opts->group, wants_attach, "attach", error)))
                return NULL;
        if (!check_attach(ctx, plan, error))
                return NULL;

        journal = dry ? NULL : hd_journal_new(ctx, HD_TX_ATTACH);
        for (guint i = 0; i < plan->len; i++) {
                PlanEntry *e = &g_array_index(plan, PlanEntry, i);
                HdBindDevice *rd = report_add(report, e->dev, e->requested);
                g_autofree char *orig = NULL;
                g_autofree char *orig_ov = NULL;

                if (!hd_driver_is_vfio(e->dev->driver)) {
                        rd->to_driver = g_strdup(e->dev->driver);
                        g_ptr_array_add(targets, NULL);
                        g_ptr_array_add(overrides, NULL);
                        continue;
                }
                (void)hd_journal_get_origin(ctx, e->dev->name, &orig, &orig_ov);
                if (opts->driver) {
                        g_free(orig);
                        orig = g_strdup(opts->driver);
                        g_free(orig_ov);
                        /* driver_override makes the choice stick, as driverctl does. */
                        orig_ov = g_strdup(opts->driver);
                }
                rd->changed = TRUE;
                rd->to_driver = g_strdup(orig);
                n_changing++;
                if (journal) {
                        g_autofree char *ov = attr_path(e->dev, "driver_override");
                        g_autofree char *unbind = driver_file(e->dev->driver, "unbind");
                        hd_journal_add_device(journal, e->dev->name, e->dev->iommu_group,
                                              e->dev->driver, e->dev->driver_override, orig);
                        hd_journal_add_step(journal, ov, orig_ov ? orig_ov : "\n");
                        hd_journal_add_step(journal, unbind, e->dev->name);
                        hd_journal_add_step(journal, "sys/bus/pci/drivers_probe", e->dev->name);
                }
                g_ptr_array_add(targets, g_steal_pointer(&orig));
                g_ptr_array_add(overrides, g_steal_pointer(&orig_ov));
        }

        if (n_changing > 0) {
                if (journal && !hd_journal_begin(journal, error))
                        return NULL;
                tx.journal = journal;
                if (opts->driver) {
                        g_autofree char *ddir = g_strdup_printf("sys/bus/pci/drivers/%s",
                                                                opts->driver);
                        GError *local = NULL;
                        if (!hd_exists_at(hd_ctx_get_root_fd(ctx), ddir, FALSE) &&
                            !hd_ctx_load_module(ctx, opts->driver, &local)) {
                                fail_and_roll_back(&tx, local, error);
                                return NULL;
                        }
                }
                for (guint i = 0; i < plan->len; i++) {
                        PlanEntry *e = &g_array_index(plan, PlanEntry, i);
                        HdBindDevice *rd = report->devices->pdata[i];
                        GError *local = NULL;

                        if (!rd->changed)
                                continue;
                        if (!attach_one(&tx, e->dev, targets->pdata[i], overrides->pdata[i],
                                        opts->driver != NULL, &local)) {
                                fail_and_roll_back(&tx, local, error);
                                return NULL;
                        }
                        if (!dry) {
                                g_free(rd->to_driver);
                                rd->to_driver = reload_driver(ctx, e->dev);
                        }
                }
                if (journal && !hd_journal_commit(journal, error))
                        return NULL;
                /* committed: a caller that records the result (the agent's VM start) must
                 * survive a crash here */
                hd_ctx_crash_point(ctx);
        }

        /* A binding that would come back at the next boot undoes the attach: drop it, and
         * say so in the report (bind.h, "attach and the boot-time binding"). */
        for (guint i = 0; i < plan->len && !opts->keep_persist; i++) {
                PlanEntry *e = &g_array_index(plan, PlanEntry, i);
                HdBindDevice *rd = report->devices->pdata[i];

                if (!hd_persist_has(ctx, e->dev->name))
                        continue;
                if (!hd_persist_remove(ctx, e->dev->name, error))
                        return NULL;
                rd->persist_removed = TRUE;
        }
        return g_steal_pointer(&report);
}

gboolean hd_bind_check_for_vm(HdCtx *ctx, const HdAddress *address, GError **error)
{
        g_autoptr(HdDevice) dev = hd_device_load(ctx, address, HD_FIELDS_LIST, error);
        g_autofree char *d = NULL;
        g_autofree char *text = NULL;

        if (!dev)
                return FALSE;
        if (!is_endpoint(dev)) {
                refuse_bridge(dev, "detach", error);
                return FALSE;
        }
        if (hd_driver_is_vfio(dev->driver))
                return TRUE; /* a VM start leaves it as it is */
        d = describe(dev);
        if (dev->iommu_group < 0)
                text = no_iommu_text(ctx, d);
        else if (hd_device_is_boot_vga(dev))
                text = boot_vga_text(ctx, dev, d);
        if (text) {
                g_set_error_literal(error, HD_ERROR, HD_ERROR_REFUSED, text);
                return FALSE;
        }
        return TRUE;
}
