/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Virtual machines, through libvirt (vm.h):
 *   GET    /v1/vms                 every domain with its host devices
 *   POST   /v1/vms                 define {name, memory_mib, vcpus, disk_image, hostdevs, viommu}
 *   GET    /v1/vms/{name}          one domain
 *   POST   /v1/vms/{name}/start    detach its host devices that are not on vfio-pci (with the
 *                                  rest of their IOMMU groups), then start it
 *   POST   /v1/vms/{name}/stop     ACPI shutdown, wait for it (--stop-timeout), reattach
 *   POST   /v1/vms/{name}/destroy  power off, reattach
 *   DELETE /v1/vms/{name}          undefine (refused while it runs)
 *
 * Like VDSM, the agent defines domains with managed='no' and moves the devices itself, so the
 * bind journal, the per-group locks and the safety checks apply to VM starts exactly as to a
 * `hostdev detach`. The devices the agent moved for a VM are recorded in
 * <root>/var/lib/hostdev/agent/vms.ini; only those are given back when the VM stops (a device
 * the admin had put on vfio-pci stays there), and at start the agent gives back the devices of
 * recorded VMs that are no longer running (a VM that stopped while the agent was down).
 */
#include "config.h"

#include <string.h>

#include "agent.h"

#define STATE_FILE "var/lib/hostdev/agent/vms.ini"

/* ---- state -------------------------------------------------------------------------------- */

static char *state_path(HdAgent *agent)
{
        return g_build_filename(agent->root, STATE_FILE, NULL);
}

static GKeyFile *state_load(HdAgent *agent)
{
        g_autofree char *path = state_path(agent);
        GKeyFile *kf = g_key_file_new();

        (void)g_key_file_load_from_file(kf, path, G_KEY_FILE_NONE, NULL);
        return kf;
}

static gboolean state_save(HdAgent *agent, GKeyFile *kf, GError **error)
{
        g_autofree char *path = state_path(agent);
        g_autofree char *dir = g_path_get_dirname(path);
        g_autofree char *data = g_key_file_to_data(kf, NULL, NULL);

        if (g_mkdir_with_parents(dir, 0700) < 0) {
                g_set_error(error, HD_ERROR, HD_ERROR_FAILED, "cannot create %s", dir);
                return FALSE;
        }
        return g_file_set_contents_full(path, data, -1, G_FILE_SET_CONTENTS_CONSISTENT, 0600,
                                        error);
}

static char *group_name(const char *vm)
{
        return g_strconcat("vm ", vm, NULL);
}

/* Record (or with n == 0 forget) the devices detached for @vm. */
static gboolean state_set(HdAgent *agent, const char *vm, GPtrArray *names, GError **error)
{
        g_autoptr(GKeyFile) kf = NULL;
        g_autofree char *group = group_name(vm);
        gboolean ok;

        g_mutex_lock(&agent->state_lock);
        kf = state_load(agent);
        if (names && names->len)
                g_key_file_set_string_list(kf, group, "detached", (const char *const *)names->pdata,
                                           names->len);
        else
                (void)g_key_file_remove_group(kf, group, NULL);
        ok = state_save(agent, kf, error);
        g_mutex_unlock(&agent->state_lock);
        return ok;
}

static GStrv state_get(HdAgent *agent, const char *vm)
{
        g_autoptr(GKeyFile) kf = NULL;
        g_autofree char *group = group_name(vm);
        GStrv list;

        g_mutex_lock(&agent->state_lock);
        kf = state_load(agent);
        list = g_key_file_get_string_list(kf, group, "detached", NULL, NULL);
        g_mutex_unlock(&agent->state_lock);
        return list;
}

char *hd_agent_vm_holding(HdAgent *agent, const char *name)
{
        g_autoptr(GKeyFile) kf = NULL;
        g_auto(GStrv) groups = NULL;

        g_mutex_lock(&agent->state_lock);
        kf = state_load(agent);
        g_mutex_unlock(&agent->state_lock);
        groups = g_key_file_get_groups(kf, NULL);
        for (char **g = groups; *g; g++) {
                g_auto(GStrv) list = g_key_file_get_string_list(kf, *g, "detached", NULL, NULL);
                if (g_str_has_prefix(*g, "vm ") && list &&
                    g_strv_contains((const char *const *)list, name))
                        return g_strdup(*g + 3);
        }
        return NULL;
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

static void add_vm(JsonBuilder *b, HdAgent *agent, const HdVmInfo *vm)
{
        g_auto(GStrv) detached = state_get(agent, vm->name);
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
        for (char **d = detached; d && *d; d++)
                json_builder_add_string_value(b, *d);
        json_builder_end_array(b);
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

static JsonBuilder *vm_json(HdAgent *agent, HdVirt *virt, const char *name, GError **error)
{
        g_autoptr(HdVmInfo) info = hd_virt_get(virt, name, error);
        JsonBuilder *b;

        if (!info)
                return NULL;
        b = json_builder_new();
        add_vm(b, agent, info);
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
                add_vm(b, agent, list->pdata[i]);
        json_builder_end_array(b);
        json_builder_end_object(b);
        return b;
}

static JsonBuilder *run_get(HdAgent *agent, HdCtx *ctx, gpointer data, GError **error)
{
        VmArgs *a = data;
        HdVirt *virt = get_virt(agent, error);

        return virt ? vm_json(agent, virt, a->name, error) : NULL;
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
        for (guint i = 0; i < a->def.hostdevs->len; i++) {
                g_autoptr(HdDevice) dev = hd_device_load(
                    ctx, &g_array_index(a->def.hostdevs, HdAddress, i), HD_FIELDS_LIST, error);
                const char *why = NULL;
                if (!dev) {
                        vm_release(agent, a->name);
                        return NULL;
                }
                if (!hd_device_is_assignable(dev, &why) && hd_device_is_bridge(dev)) {
                        char n[HD_ADDRESS_STRLEN];
                        g_set_error(error, HD_ERROR, HD_ERROR_REFUSED,
                                    "%s cannot be given to a VM: %s",
                                    hd_address_format(&dev->address, n), why ? why : "bridge");
                        vm_release(agent, a->name);
                        return NULL;
                }
        }
        if (!hd_virt_define(virt,
                            &(HdVmSpec){.name = a->name,
                                        .memory_mib = a->def.memory_mib,
                                        .vcpus = (guint)a->def.vcpus,
                                        .disk_image = a->def.disk_image,
                                        .hostdevs = (const HdAddress *)a->def.hostdevs->data,
                                        .n_hostdevs = a->def.hostdevs->len,
                                        .managed = FALSE,
                                        .viommu = a->def.viommu},
                            error)) {
                vm_release(agent, a->name);
                return NULL;
        }
        b = vm_json(agent, virt, a->name, error);
        vm_release(agent, a->name);
        return b;
}

/* Give back what was detached for @vm (the names in the state file), then forget it. */
static gboolean reattach_for(HdAgent *agent, HdCtx *ctx, const char *vm, GError **error)
{
        g_auto(GStrv) names = state_get(agent, vm);
        g_autoptr(GArray) addrs = g_array_new(FALSE, FALSE, sizeof(HdAddress));
        g_autoptr(GArray) groups = NULL;
        g_autoptr(HdBindReport) report = NULL;
        HdBindOptions opts = {0};

        for (char **n = names; n && *n; n++) {
                HdAddress a;
                if (hd_address_parse(*n, &a, NULL))
                        g_array_append_val(addrs, a);
        }
        if (addrs->len == 0)
                return state_set(agent, vm, NULL, error);
        groups = hd_agent_groups_of(ctx, (const HdAddress *)addrs->data, addrs->len);
        hd_agent_groups_acquire(agent, groups);
        report = hd_bind_attach(ctx, (const HdAddress *)addrs->data, addrs->len, &opts, error);
        hd_agent_groups_release(agent, groups);
        if (!report) {
                g_prefix_error(error,
                               "VM %s stopped, but its host devices could not be given "
                               "back (they stay on vfio-pci): ",
                               vm);
                return FALSE;
        }
        return state_set(agent, vm, NULL, error);
}

static JsonBuilder *run_start(HdAgent *agent, HdCtx *ctx, VmArgs *a, HdVirt *virt, GError **error)
{
        g_autoptr(HdVmInfo) info = hd_virt_get(virt, a->name, error);
        g_autoptr(GArray) to_detach = g_array_new(FALSE, FALSE, sizeof(HdAddress));
        g_autoptr(GArray) groups = NULL;
        g_autoptr(GPtrArray) moved = g_ptr_array_new_with_free_func(g_free);
        g_autoptr(HdBindReport) report = NULL;

        if (!info)
                return NULL;
        if (info->active) {
                g_set_error(error, HD_ERROR, HD_ERROR_REFUSED,
                            "cannot start VM %s: it is already running", a->name);
                return NULL;
        }
        for (guint i = 0; i < info->hostdevs->len; i++) {
                const HdAddress *addr = &g_array_index(info->hostdevs, HdAddress, i);
                g_autoptr(HdDevice) dev = hd_device_load(ctx, addr, HD_FIELD_DRIVER, error);
                if (!dev) {
                        g_prefix_error(error, "cannot start VM %s: ", a->name);
                        return NULL;
                }
                if (!hd_driver_is_vfio(dev->driver))
                        g_array_append_val(to_detach, *addr);
        }
        groups =
            hd_agent_groups_of(ctx, (const HdAddress *)info->hostdevs->data, info->hostdevs->len);
        hd_agent_groups_acquire(agent, groups);
        if (to_detach->len) {
                HdBindOptions opts = {.group = TRUE};
                report = hd_bind_detach(ctx, (const HdAddress *)to_detach->data, to_detach->len,
                                        &opts, error);
                if (!report) {
                        hd_agent_groups_release(agent, groups);
                        g_prefix_error(error, "cannot start VM %s: ", a->name);
                        return NULL;
                }
                for (guint i = 0; i < report->devices->len; i++) {
                        const HdBindDevice *d = report->devices->pdata[i];
                        if (d->changed)
                                g_ptr_array_add(moved, g_strdup(d->name));
                }
                if (!state_set(agent, a->name, moved, error)) {
                        hd_agent_groups_release(agent, groups);
                        return NULL;
                }
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
        return vm_json(agent, virt, a->name, error);
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
        if (strcmp(a->action, "start") == 0) {
                b = run_start(agent, ctx, a, virt, error);
        } else if (strcmp(a->action, "stop") == 0 || strcmp(a->action, "destroy") == 0) {
                gboolean stop = strcmp(a->action, "stop") == 0;
                if ((stop ? hd_virt_stop(virt, a->name, error)
                          : hd_virt_destroy(virt, a->name, error)) &&
                    wait_inactive(agent, virt, a->name, error) &&
                    reattach_for(agent, ctx, a->name, error))
                        b = vm_json(agent, virt, a->name, error);
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
        hd_agent_run_op(req, "vm-define", a->name, FALSE, NULL, run_define, a, vm_args_free);
}

gboolean hd_api_vms(HdRequest *req)
{
        VmArgs *a;

        if (req->n_segments == 1) {
                if (strcmp(req->method, "GET") == 0)
                        hd_agent_run_op(req, "vm-list", NULL, FALSE, NULL, run_list, NULL, NULL);
                else if (strcmp(req->method, "POST") == 0)
                        post_define(req);
                else
                        hd_respond_bad_method(req->msg, "GET, POST");
                return TRUE;
        }
        if (req->n_segments > 3)
                return FALSE;
        if (!hd_vm_name_valid(req->segments[1])) {
                hd_respond_error(req->msg, HD_HTTP_BAD_REQUEST, "invalid-argument",
                                 "\"%s\" is not a VM name (letters, digits, '-', '_', '.')",
                                 req->segments[1]);
                return TRUE;
        }
        a = g_new0(VmArgs, 1);
        a->name = g_strdup(req->segments[1]);
        if (req->n_segments == 2) {
                if (strcmp(req->method, "GET") == 0) {
                        hd_agent_run_op(req, "vm-get", a->name, FALSE, NULL, run_get, a,
                                        vm_args_free);
                } else if (strcmp(req->method, "DELETE") == 0) {
                        a->action = "delete";
                        hd_agent_run_op(req, "vm-delete", a->name, TRUE, NULL, run_action, a,
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
                hd_agent_run_op(req, op, a->name, TRUE, NULL, run_action, a, vm_args_free);
        }
        return TRUE;
}

void hd_agent_vms_reconcile(HdAgent *agent)
{
        g_autoptr(GKeyFile) kf = NULL;
        g_auto(GStrv) groups = NULL;
        g_autoptr(GError) error = NULL;
        HdVirt *virt;

        g_mutex_lock(&agent->state_lock);
        kf = state_load(agent);
        g_mutex_unlock(&agent->state_lock);
        groups = g_key_file_get_groups(kf, NULL);
        if (!groups[0])
                return;
        virt = get_virt(agent, &error);
        if (!virt) {
                hd_agent_log("warning", "cannot check the VMs the agent detached devices for",
                             "error", error->message, NULL);
                return;
        }
        for (char **g = groups; *g; g++) {
                const char *vm = *g + 3;
                g_autoptr(HdVmInfo) info = NULL;
                g_autoptr(GError) e = NULL;

                if (!g_str_has_prefix(*g, "vm "))
                        continue;
                info = hd_virt_get(virt, vm, NULL);
                if (info && info->active)
                        continue;
                if (reattach_for(agent, agent->ctx, vm, &e))
                        hd_agent_log("info", "gave back the devices of a VM that is not running",
                                     "vm", vm, NULL);
                else
                        hd_agent_log("warning", "could not give back the devices of a stopped VM",
                                     "vm", vm, "error", e->message, NULL);
        }
}
