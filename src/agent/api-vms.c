/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Virtual machines, through libvirt (vm.h):
 *   GET    /v1/vms                 every domain with its host devices
 *   POST   /v1/vms                 define {name, memory_mib, vcpus, disk_image, hostdevs, viommu,
 *                                  mdevs, usb, scsi}: USB devices and SCSI LUNs by stable
 *                                  identity, kept in the domain's metadata and resolved at each
 *                                  start (vm-usbscsi.c)
 *   GET    /v1/vms/{name}          one domain
 *   POST   /v1/vms/{name}/start    detach its host devices that are not on vfio-pci (with the
 *                                  rest of their IOMMU groups), then start it
 *   POST   /v1/vms/{name}/stop     ACPI shutdown, wait for it (--stop-timeout), reattach
 *   POST   /v1/vms/{name}/destroy  power off, reattach
 *   DELETE /v1/vms/{name}          undefine (refused while it runs)
 *
 * Like VDSM, the agent defines domains with managed='no' and moves the devices itself, so the
 * bind journal, the per-group locks and the safety checks apply to VM starts exactly as to a
 * `hostdev detach`. What the agent moves for a VM is recorded (vm-record.h: the record's state
 * machine and invariants) before the move as an intent ("starting") and after it as the result
 * ("started"); only those devices are given back when the VM stops (a device the admin had put
 * on vfio-pci stays there). At its start, and before any operation on a VM, the agent settles
 * records of starts that were interrupted and gives back the devices of recorded VMs that are
 * no longer running (a VM that stopped while the agent was down).
 */
#include "config.h"

#include <string.h>

#include "agent.h"
#include "strarray.h"

/* ---- the record of devices moved for VMs (vm-record.h) ------------------------------------ */

char *hd_agent_vm_holding(HdAgent *agent, const char *name)
{
        /* reads only (the root's descriptor): safe from any thread */
        return hd_vm_record_holding(agent->ctx, name);
}

static GPtrArray *recorded_devices(HdCtx *ctx, const char *vm)
{
        g_autoptr(HdVmRecord) r = hd_vm_record_get(ctx, vm);

        return r ? g_ptr_array_ref(r->devices) : g_ptr_array_new_with_free_func(g_free);
}

/* ---- per-VM serialization ----------------------------------------------------------------- */

static void vm_acquire(HdAgent *agent, const char *name)
{
        g_mutex_lock(&agent->groups_lock);
        while (g_hash_table_contains(agent->busy_vms, name))
                g_cond_wait(&agent->groups_cond, &agent->groups_lock);
        g_hash_table_add(agent->busy_vms, g_strdup(name));
        g_mutex_unlock(&agent->groups_lock);
}

static void vm_release(HdAgent *agent, const char *name)
{
        g_mutex_lock(&agent->groups_lock);
        g_hash_table_remove(agent->busy_vms, name);
        g_cond_broadcast(&agent->groups_cond);
        g_mutex_unlock(&agent->groups_lock);
}

static HdVirt *get_virt(HdAgent *agent, GError **error)
{
        HdVirt *virt;

        g_mutex_lock(&agent->virt_lock);
        virt = hd_agent_get_virt(agent, error);
        g_mutex_unlock(&agent->virt_lock);
        return virt;
}

/* ---- JSON ----------------------------------------------------------------------------------- */

static void add_vm(JsonBuilder *b, HdCtx *ctx, HdVirt *virt, const HdVmInfo *vm)
{
        g_autoptr(GPtrArray) detached = recorded_devices(ctx, vm->name);
        char name[HD_ADDRESS_STRLEN];

        json_builder_begin_object(b);
        json_builder_set_member_name(b, "name");
        json_builder_add_string_value(b, vm->name);
        json_builder_set_member_name(b, "state");
        json_builder_add_string_value(b, vm->state);
        json_builder_set_member_name(b, "active");
        json_builder_add_boolean_value(b, vm->active);
        json_builder_set_member_name(b, "hostdevs");
        json_builder_begin_array(b);
        for (guint i = 0; i < vm->hostdevs->len; i++)
                json_builder_add_string_value(
                    b, hd_address_format(&g_array_index(vm->hostdevs, HdAddress, i), name));
        json_builder_end_array(b);
        json_builder_set_member_name(b, "detached_for_vm");
        json_builder_begin_array(b);
        for (guint i = 0; i < detached->len; i++)
                json_builder_add_string_value(b, detached->pdata[i]);
        json_builder_end_array(b);
        hd_agent_vm_usbscsi_json(b, virt, vm->name, vm->active);
        json_builder_end_object(b);
}

/* ---- operations (in threads) ---------------------------------------------------------------- */

typedef struct {
        char *name;
        HdVmArgs def; /* POST /v1/vms */
        const char *action;
} VmArgs;

static void vm_args_free(gpointer p)
{
        VmArgs *a = p;

        g_free(a->name);
        hd_vm_args_clear(&a->def);
        g_free(a);
}

static JsonBuilder *vm_json(HdCtx *ctx, HdVirt *virt, const char *name, GError **error)
{
        g_autoptr(HdVmInfo) info = hd_virt_get(virt, name, error);
        JsonBuilder *b;

        if (!info)
                return NULL;
        b = json_builder_new();
        add_vm(b, ctx, virt, info);
        return b;
}

static JsonBuilder *run_list(HdAgent *agent, HdCtx *ctx, gpointer data, GError **error)
{
        HdVirt *virt = get_virt(agent, error);
        g_autoptr(GPtrArray) list = NULL;
        JsonBuilder *b;

        if (!virt || !(list = hd_virt_list(virt, error)))
                return NULL;
        b = json_builder_new();
        json_builder_begin_object(b);
        json_builder_set_member_name(b, "vms");
        json_builder_begin_array(b);
        for (guint i = 0; i < list->len; i++)
                add_vm(b, ctx, virt, list->pdata[i]);
        json_builder_end_array(b);
        json_builder_end_object(b);
        return b;
}

static JsonBuilder *run_get(HdAgent *agent, HdCtx *ctx, gpointer data, GError **error)
{
        VmArgs *a = data;
        HdVirt *virt = get_virt(agent, error);

        return virt ? vm_json(ctx, virt, a->name, error) : NULL;
}

static JsonBuilder *run_define(HdAgent *agent, HdCtx *ctx, gpointer data, GError **error)
{
        VmArgs *a = data;
        HdVirt *virt = get_virt(agent, error);
        g_autoptr(HdVmInfo) existing = NULL;
        JsonBuilder *b;

        if (!virt)
                return NULL;
        vm_acquire(agent, a->name);
        existing = hd_virt_get(virt, a->name, NULL);
        if (existing) {
                g_set_error(error, HD_ERROR, HD_ERROR_REFUSED,
                            "a VM named %s exists already; DELETE /v1/vms/%s first to replace it",
                            a->name, a->name);
                vm_release(agent, a->name);
                return NULL;
        }
        if (a->def.disk_image) {
                g_autofree char *resolved = NULL;
                if (!hd_disk_image_resolve(agent->opts.images_dir, a->def.disk_image, &resolved,
                                           error)) {
                        vm_release(agent, a->name);
                        return NULL;
                }
                g_free(a->def.disk_image);
                a->def.disk_image = g_steal_pointer(&resolved);
        }
        /* refuse what start would always refuse (a bridge, a host bridge, the boot GPU, no
         * IOMMU), in start's words */
        for (guint i = 0; i < a->def.hostdevs->len; i++) {
                if (!hd_bind_check_for_vm(ctx, &g_array_index(a->def.hostdevs, HdAddress, i),
                                          error)) {
                        g_prefix_error(error, "cannot define VM %s: ", a->name);
                        vm_release(agent, a->name);
                        return NULL;
                }
        }
        if (!hd_agent_vm_define_usbscsi(agent, ctx, virt, &a->def,
                                        &(HdVmSpec){.name = a->name,
                                                    .memory_mib = a->def.memory_mib,
                                                    .vcpus = (guint)a->def.vcpus,
                                                    .disk_image = a->def.disk_image,
                                                    .hostdevs = (const HdAddress *)a->def.hostdevs->data,
                                                    .n_hostdevs = a->def.hostdevs->len,
                                                    .managed = FALSE,
                                                    .viommu = a->def.viommu,
                                                    .mdevs = (const char *const *)a->def.mdevs->pdata,
                                                    .n_mdevs = a->def.mdevs->len},
                                        error)) {
                vm_release(agent, a->name);
                return NULL;
        }
        b = vm_json(ctx, virt, a->name, error);
        vm_release(agent, a->name);
        return b;
}

/* Whether @addr is an SR-IOV VF (its PF's driver holds its network settings: vf-net.h). */
static gboolean is_vf(HdCtx *ctx, const HdAddress *addr)
{
        g_autoptr(HdDevice) dev = hd_device_load(ctx, addr, HD_FIELD_SRIOV, NULL);

        return dev && dev->physfn;
}

/* Set the saved PF-side settings (MAC, VLAN, spoof check, trust, link state) of the VFs among
 * @addrs again, as libvirt does after a VF comes back from a VM; nothing for a VF with none
 * saved. A failure is logged: the device is back, only its settings are not. */
static void restore_vf_net(HdCtx *ctx, const HdAddress *addrs, guint n)
{
        for (guint i = 0; i < n; i++) {
                g_autoptr(GError) local = NULL;
                char name[HD_ADDRESS_STRLEN];

                if (!is_vf(ctx, &addrs[i]) || hd_vf_net_restore(ctx, &addrs[i], &local))
                        continue;
                hd_agent_log("warning", "could not restore a VF's network settings", "device",
                             hd_address_format(&addrs[i], name), "error", local->message, NULL);
        }
}

/* Save the PF-side settings of the NIC VFs among @addrs before they go to a VM (vf-net.h);
 * a VF of a PF without a network interface (an NVMe VF) has none. On failure the ones saved
 * are set back and nothing else is done. */
static gboolean save_vf_net(HdCtx *ctx, GArray *addrs, GError **error)
{
        for (guint i = 0; i < addrs->len; i++) {
                const HdAddress *a = &g_array_index(addrs, HdAddress, i);
                g_autoptr(GError) local = NULL;

                if (!is_vf(ctx, a) || hd_vf_net_save(ctx, a, NULL, &local))
                        continue;
                if (g_error_matches(local, HD_ERROR, HD_ERROR_NOT_SUPPORTED))
                        continue;
                restore_vf_net(ctx, (const HdAddress *)addrs->data, i);
                g_propagate_prefixed_error(error, g_steal_pointer(&local),
                                           "its network settings could not be saved, so "
                                           "nothing was moved: ");
                return FALSE;
        }
        return TRUE;
}

/* Give @names back to their host drivers (their origins, journal.h): those that are on a vfio
 * driver now; the others were never moved or are back already. With @lock_groups the agent's
 * queue is taken for their groups (not when the caller holds it already). A VF's saved network
 * settings are set again once it is back. */
static gboolean give_back(HdAgent *agent, HdCtx *ctx, GPtrArray *names, gboolean lock_groups,
                          GError **error)
{
        g_autoptr(GArray) addrs = g_array_new(FALSE, FALSE, sizeof(HdAddress));
        g_autoptr(GArray) all = g_array_new(FALSE, FALSE, sizeof(HdAddress));
        g_autoptr(GArray) groups = NULL;
        g_autoptr(HdBindReport) report = NULL;
        HdBindOptions opts = {0};

        for (guint i = 0; i < names->len; i++) {
                g_autoptr(HdDevice) dev = NULL;
                HdAddress a;

                if (!hd_address_parse(names->pdata[i], &a, NULL))
                        continue;
                g_array_append_val(all, a);
                if (!(dev = hd_device_load(ctx, &a, HD_FIELD_DRIVER, NULL)) ||
                    !hd_driver_is_vfio(dev->driver))
                        continue;
                g_array_append_val(addrs, a);
        }
        if (addrs->len == 0) {
                restore_vf_net(ctx, (const HdAddress *)all->data, all->len);
                return TRUE;
        }
        groups = hd_agent_groups_of(ctx, (const HdAddress *)addrs->data, addrs->len);
        if (lock_groups)
                hd_agent_groups_acquire(agent, groups);
        report = hd_bind_attach(ctx, (const HdAddress *)addrs->data, addrs->len, &opts, error);
        if (report)
                restore_vf_net(ctx, (const HdAddress *)all->data, all->len);
        if (lock_groups)
                hd_agent_groups_release(agent, groups);
        return report != NULL;
}

/* Give back what was moved for @vm (its record), then forget it. The record is dropped only
 * once the devices are back (vm-record.h V1). */
static gboolean reattach_for(HdAgent *agent, HdCtx *ctx, const char *vm, GError **error)
{
        g_autoptr(HdVmRecord) record = hd_vm_record_get(ctx, vm);

        if (!record)
                return TRUE;
        if (!give_back(agent, ctx, record->devices, TRUE, error)) {
                g_prefix_error(error,
                               "VM %s is not running, but its host devices could not be given "
                               "back (they stay on vfio-pci, still recorded for it): ",
                               vm);
                return FALSE;
        }
        return hd_vm_record_drop(ctx, vm, error);
}

/* A "starting" record left by a start that did not finish (the agent was killed, or a write
 * failed): complete it when the VM runs, otherwise give back what it names (vm-record.h). With
 * @all, a "started" record of a VM that is not running is given back too (the agent's start:
 * the VM stopped while it was down). */
static gboolean settle(HdAgent *agent, HdCtx *ctx, HdVirt *virt, const char *vm, gboolean all,
                       GError **error)
{
        g_autoptr(HdVmRecord) record = hd_vm_record_get(ctx, vm);
        g_autoptr(HdVmInfo) info = NULL;
        g_autoptr(GPtrArray) on_vfio = NULL;
        g_autoptr(GError) local = NULL;

        if (!record || (record->state == HD_VM_RECORD_STARTED && !all))
                return TRUE;
        /* Only a VM that libvirt says is gone or shut off gets its devices taken back. */
        info = hd_virt_get(virt, vm, &local);
        if (!info && !g_error_matches(local, HD_ERROR, HD_ERROR_NOT_FOUND)) {
                g_propagate_error(error, g_steal_pointer(&local));
                return FALSE;
        }
        if (!info || !info->active) {
                if (!reattach_for(agent, ctx, vm, error))
                        return FALSE;
                hd_agent_log("info", "gave back the devices of a VM that is not running", "vm", vm,
                             "record", hd_vm_record_state_to_string(record->state), NULL);
                return TRUE;
        }
        if (record->state == HD_VM_RECORD_STARTED)
                return TRUE;
        /* It runs: the start went through. Its devices are the named ones on vfio-pci. */
        on_vfio = g_ptr_array_new_with_free_func(g_free);
        for (guint i = 0; i < record->devices->len; i++) {
                g_autoptr(HdDevice) dev = NULL;
                HdAddress a;

                if (hd_address_parse(record->devices->pdata[i], &a, NULL) &&
                    (dev = hd_device_load(ctx, &a, HD_FIELD_DRIVER, NULL)) &&
                    hd_driver_is_vfio(dev->driver))
                        g_ptr_array_add(on_vfio, g_strdup(record->devices->pdata[i]));
        }
        if (!hd_vm_record_set(ctx, vm, HD_VM_RECORD_STARTED, on_vfio, error))
                return FALSE;
        hd_agent_log("info", "completed the record of an interrupted VM start", "vm", vm, NULL);
        return TRUE;
}

/* Move @to_detach (with their groups) to vfio-pci for @vm, recorded before and after the move
 * (vm-record.h). On failure nothing stays moved without a record naming it. */
static gboolean detach_for(HdAgent *agent, HdCtx *ctx, const char *vm, GArray *to_detach,
                           GError **error)
{
        g_autoptr(HdVmRecord) before = hd_vm_record_get(ctx, vm);
        g_autoptr(GPtrArray) previous =
            before ? g_ptr_array_ref(before->devices) : g_ptr_array_new_with_free_func(g_free);
        g_autoptr(GPtrArray) intent =
            hd_vm_record_candidates(ctx, (const HdAddress *)to_detach->data, to_detach->len);
        g_autoptr(GPtrArray) moved = g_ptr_array_new_with_free_func(g_free);
        g_autoptr(GPtrArray) record = g_ptr_array_new_with_free_func(g_free);
        g_autoptr(HdBindReport) report = NULL;
        g_autoptr(GError) local = NULL;
        g_autoptr(GError) back = NULL;
        HdBindOptions opts = {.group = TRUE};

        /* A VM that stopped on its own keeps the record of what was moved for it before. */
        for (guint i = 0; i < previous->len; i++)
                hd_str_array_add_unique(intent, previous->pdata[i]);
        if (!save_vf_net(ctx, to_detach, error))
                return FALSE;
        if (!hd_vm_record_set(ctx, vm, HD_VM_RECORD_STARTING, intent, &local)) {
                restore_vf_net(ctx, (const HdAddress *)to_detach->data, to_detach->len);
                g_set_error(error, HD_ERROR, HD_ERROR_FAILED,
                            "%s; nothing was moved (make /var/lib/hostdev/agent writable, then "
                            "start it again)",
                            local->message);
                return FALSE;
        }
        report =
            hd_bind_detach(ctx, (const HdAddress *)to_detach->data, to_detach->len, &opts, error);
        if (!report) {
                restore_vf_net(ctx, (const HdAddress *)to_detach->data, to_detach->len);
                /* the transaction rolled itself back: nothing was moved by this start */
                if (!(previous->len
                          ? hd_vm_record_set(ctx, vm, HD_VM_RECORD_STARTED, previous, &local)
                          : hd_vm_record_drop(ctx, vm, &local)))
                        hd_agent_log("warning", "could not clear the intent of a failed start",
                                     "vm", vm, "error", local->message, NULL);
                return FALSE;
        }
        for (guint i = 0; i < report->devices->len; i++) {
                const HdBindDevice *d = report->devices->pdata[i];
                if (d->changed)
                        g_ptr_array_add(moved, g_strdup(d->name));
        }
        for (guint i = 0; i < previous->len; i++)
                hd_str_array_add_unique(record, previous->pdata[i]);
        for (guint i = 0; i < moved->len; i++)
                hd_str_array_add_unique(record, moved->pdata[i]);
        if (hd_vm_record_set(ctx, vm, HD_VM_RECORD_STARTED, record, &local))
                return TRUE;
        /* V1: a device may not stay moved without a record that gives it back. */
        if (!give_back(agent, ctx, moved, FALSE, &back)) {
                g_set_error(error, HD_ERROR, HD_ERROR_FAILED,
                            "%s, and giving back the devices moved for it failed too (%s); they "
                            "stay on vfio-pci, named by the intent record: the agent gives them "
                            "back at its next start or next operation on the VM",
                            local->message, back->message);
                return FALSE;
        }
        if (!(previous->len ? hd_vm_record_set(ctx, vm, HD_VM_RECORD_STARTED, previous, &back)
                            : hd_vm_record_drop(ctx, vm, &back)))
                hd_agent_log("warning", "could not clear the intent of a failed start", "vm", vm,
                             "error", back->message, NULL);
        g_set_error(error, HD_ERROR, HD_ERROR_FAILED,
                    "%s; the devices moved for it were given back to their host drivers (make "
                    "/var/lib/hostdev/agent writable, then start it again)",
                    local->message);
        return FALSE;
}

static JsonBuilder *run_start(HdAgent *agent, HdCtx *ctx, VmArgs *a, HdVirt *virt, GError **error)
{
        g_autoptr(HdVmInfo) info = hd_virt_get(virt, a->name, error);
        g_autoptr(GArray) to_detach = g_array_new(FALSE, FALSE, sizeof(HdAddress));
        g_autoptr(GArray) groups = NULL;

        if (!info)
                return NULL;
        if (info->active) {
                g_set_error(error, HD_ERROR, HD_ERROR_REFUSED,
                            "cannot start VM %s: it is already running", a->name);
                return NULL;
        }
        /* USB devices and LUNs first: a refusal there moves nothing */
        if (!hd_agent_vm_prepare_usbscsi(agent, ctx, virt, a->name, error))
                return NULL;
        groups =
            hd_agent_groups_of(ctx, (const HdAddress *)info->hostdevs->data, info->hostdevs->len);
        hd_agent_groups_acquire(agent, groups);
        /* An interrupted transaction on these groups is undone before the devices are looked
         * at: a device it left on vfio-pci would otherwise be taken as the admin's and missing
         * from the intent record. */
        if (!hd_journal_recover_for(ctx, groups, NULL, error)) {
                hd_agent_groups_release(agent, groups);
                g_prefix_error(error, "cannot start VM %s: ", a->name);
                return NULL;
        }
        for (guint i = 0; i < info->hostdevs->len; i++) {
                const HdAddress *addr = &g_array_index(info->hostdevs, HdAddress, i);
                g_autoptr(HdDevice) dev = hd_device_load(ctx, addr, HD_FIELD_DRIVER, error);
                if (!dev) {
                        hd_agent_groups_release(agent, groups);
                        g_prefix_error(error, "cannot start VM %s: ", a->name);
                        return NULL;
                }
                if (!hd_driver_is_vfio(dev->driver))
                        g_array_append_val(to_detach, *addr);
        }
        if (to_detach->len && !detach_for(agent, ctx, a->name, to_detach, error)) {
                hd_agent_groups_release(agent, groups);
                g_prefix_error(error, "cannot start VM %s: ", a->name);
                return NULL;
        }
        if (!hd_virt_start(virt, a->name, error)) {
                g_autoptr(GError) back = NULL;
                hd_agent_groups_release(agent, groups);
                if (!reattach_for(agent, ctx, a->name, &back))
                        hd_agent_log("warning", "could not give back devices after a failed start",
                                     "vm", a->name, "error", back->message, NULL);
                return NULL;
        }
        hd_agent_groups_release(agent, groups);
        return vm_json(ctx, virt, a->name, error);
}

static gboolean wait_inactive(HdAgent *agent, HdVirt *virt, const char *name, GError **error)
{
        gint64 deadline = g_get_monotonic_time() + agent->opts.stop_timeout * G_USEC_PER_SEC;

        for (;;) {
                g_autoptr(HdVmInfo) info = hd_virt_get(virt, name, error);
                if (!info)
                        return FALSE;
                if (!info->active)
                        return TRUE;
                if (g_get_monotonic_time() > deadline) {
                        g_set_error(error, HD_ERROR, HD_ERROR_BUSY,
                                    "VM %s did not shut down within %u s; its host devices stay "
                                    "on vfio-pci (POST /v1/vms/%s/destroy powers it off)",
                                    name, agent->opts.stop_timeout, name);
                        return FALSE;
                }
                g_usleep(200 * 1000);
        }
}

static JsonBuilder *run_action(HdAgent *agent, HdCtx *ctx, gpointer data, GError **error)
{
        VmArgs *a = data;
        HdVirt *virt = get_virt(agent, error);
        JsonBuilder *b = NULL;

        if (!virt)
                return NULL;
        vm_acquire(agent, a->name);
        /* an interrupted start of this VM is settled before anything else is done to it */
        if (!settle(agent, ctx, virt, a->name, FALSE, error)) {
                vm_release(agent, a->name);
                return NULL;
        }
        if (strcmp(a->action, "start") == 0) {
                b = run_start(agent, ctx, a, virt, error);
        } else if (strcmp(a->action, "stop") == 0 || strcmp(a->action, "destroy") == 0) {
                gboolean stop = strcmp(a->action, "stop") == 0;
                if ((stop ? hd_virt_stop(virt, a->name, error)
                          : hd_virt_destroy(virt, a->name, error)) &&
                    wait_inactive(agent, virt, a->name, error) &&
                    reattach_for(agent, ctx, a->name, error))
                        b = vm_json(ctx, virt, a->name, error);
        } else if (strcmp(a->action, "delete") == 0) {
                g_autoptr(HdVmInfo) info = hd_virt_get(virt, a->name, error);
                if (info && info->active)
                        g_set_error(error, HD_ERROR, HD_ERROR_REFUSED,
                                    "VM %s is running; stop or destroy it before deleting it",
                                    a->name);
                else if (info && hd_virt_undefine(virt, a->name, error) &&
                         reattach_for(agent, ctx, a->name, error)) {
                        b = json_builder_new();
                        json_builder_begin_object(b);
                        json_builder_set_member_name(b, "deleted");
                        json_builder_add_string_value(b, a->name);
                        json_builder_end_object(b);
                }
        }
        vm_release(agent, a->name);
        return b;
}

/* ---- routing -------------------------------------------------------------------------------- */

static void post_define(HdRequest *req)
{
        g_autoptr(JsonObject) body = hd_request_json_object(req);
        g_autoptr(GError) error = NULL;
        VmArgs *a;

        if (!body)
                return;
        a = g_new0(VmArgs, 1);
        if (!hd_body_parse_vm(body, &a->def, &error)) {
                hd_respond_gerror(req->msg, error);
                vm_args_free(a);
                return;
        }
        a->name = g_strdup(a->def.name);
        hd_agent_run_op(req, "vm-define", a->name, HD_OP_CHANGES_HOST, NULL, run_define, a, vm_args_free);
}

gboolean hd_api_vms(HdRequest *req)
{
        VmArgs *a;

        if (req->n_segments == 1) {
                if (strcmp(req->method, "GET") == 0)
                        hd_agent_run_op(req, "vm-list", NULL, HD_OP_READ, NULL, run_list, NULL, NULL);
                else if (strcmp(req->method, "POST") == 0)
                        post_define(req);
                else
                        hd_respond_bad_method(req->msg, "GET, POST");
                return TRUE;
        }
        if (req->n_segments > 3)
                return FALSE;
        if (!hd_vm_name_is_valid(req->segments[1])) {
                hd_respond_error(req->msg, HD_HTTP_BAD_REQUEST, "invalid-argument",
                                 "\"%s\" is not a VM name (letters, digits, '-', '_', '.')",
                                 req->segments[1]);
                return TRUE;
        }
        a = g_new0(VmArgs, 1);
        a->name = g_strdup(req->segments[1]);
        if (req->n_segments == 2) {
                if (strcmp(req->method, "GET") == 0) {
                        hd_agent_run_op(req, "vm-get", a->name, HD_OP_READ, NULL, run_get, a,
                                        vm_args_free);
                } else if (strcmp(req->method, "DELETE") == 0) {
                        a->action = "delete";
                        hd_agent_run_op(req, "vm-delete", a->name,
                                        HD_OP_CHANGES_DEVICES | HD_OP_CHANGES_HOST, NULL, run_action, a,
                                        vm_args_free);
                } else {
                        vm_args_free(a);
                        hd_respond_bad_method(req->msg, "GET, DELETE");
                }
                return TRUE;
        }
        if (strcmp(req->segments[2], "start") == 0)
                a->action = "start";
        else if (strcmp(req->segments[2], "stop") == 0)
                a->action = "stop";
        else if (strcmp(req->segments[2], "destroy") == 0)
                a->action = "destroy";
        if (!a->action) {
                vm_args_free(a);
                return FALSE;
        }
        if (strcmp(req->method, "POST") != 0) {
                vm_args_free(a);
                hd_respond_bad_method(req->msg, "POST");
                return TRUE;
        }
        {
                g_autoptr(JsonObject) body = hd_request_json_object(req);
                static const char *const none[] = {NULL};
                g_autoptr(GError) error = NULL;
                if (body && !hd_body_check_members(body, none, &error))
                        hd_respond_gerror(req->msg, error);
                if (!body || error) {
                        vm_args_free(a);
                        return TRUE;
                }
        }
        {
                g_autofree char *op = g_strconcat("vm-", a->action, NULL);
                hd_agent_run_op(req, op, a->name, HD_OP_CHANGES_DEVICES | HD_OP_CHANGES_HOST, NULL, run_action, a, vm_args_free);
        }
        return TRUE;
}

void hd_agent_vms_reconcile(HdAgent *agent)
{
        g_autoptr(GPtrArray) records = hd_vm_records_load(agent->ctx);
        g_autoptr(GError) error = NULL;
        HdVirt *virt;

        if (records->len == 0)
                return;
        virt = get_virt(agent, &error);
        if (!virt) {
                hd_agent_log("warning", "cannot check the VMs the agent detached devices for",
                             "error", error->message, NULL);
                return;
        }
        for (guint i = 0; i < records->len; i++) {
                const HdVmRecord *r = records->pdata[i];
                g_autoptr(GError) e = NULL;

                if (!settle(agent, agent->ctx, virt, r->vm, TRUE, &e))
                        hd_agent_log("warning", "could not settle the devices recorded for a VM",
                                     "vm", r->vm, "error", e->message, NULL);
        }
}
