/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The engine API's VMs (docs/api/engine-openapi.yaml; vms.h):
 *   GET  /v1/vms?host_id=&state=&name_prefix=&limit=&offset=     POST /v1/vms
 *   GET|PATCH|DELETE /v1/vms/{id}    (a VM's answers carry its ETag; PATCH honours If-Match: 412)
 *   POST /v1/vms/{id}/devices {host_id, addresses}                DELETE
 * /v1/vms/{id}/devices/{address} POST /v1/vms/{id}/start | stop | destroy
 *   POST /v1/vms/{id}/mdevs {host_id, type, display}     DELETE /v1/vms/{id}/mdevs/{uuid}
 *   POST /v1/vms/{id}/usb {host_id, spec, force}         DELETE /v1/vms/{id}/usb/{n}
 *   POST /v1/vms/{id}/scsi {host_id, wwid, shareable, readonly, force}
 *                                                        DELETE /v1/vms/{id}/scsi/{n}
 *   POST /v1/vms/{id}/vhost-scsi {host_id, wwpn}         DELETE /v1/vms/{id}/vhost-scsi/{n}
 *   (the three kinds of numbered entries: one table, entry_kinds)
 *
 * Start: the store's check and reservation (one transaction: "starting"), then on the host's
 * agent: GET /v1/vms/{id}; absent -> POST /v1/vms (define with the requested devices); shut
 * off -> DELETE then define (memory, vCPUs or devices may have changed since); then POST
 * .../start. The request is suspended until the agent answered: 200 with the VM "running"; 409
 * with the agent's own code (in-use, device-absent, refused) when it refused the define or start
 * for a reason the admin can act on (agent_refused_code), else 502 agent-failed with the agent's
 * message (either way the VM "down" with last_error). Stop / destroy:
 * "stopping", the agent's stop / destroy (which give the devices back), then "down" (or back to
 * "running" with last_error when the agent failed). After each that reached the agent's start,
 * stop or destroy, the host's inventory is read again (hd_sync_host_start); a lookup or a
 * definition the agent refused moved nothing.
 *
 * Reconcile: when a host comes up and whenever its device generation moves (the sync's hook),
 * the agent's GET /v1/vms decides which of the host's VMs run (hd_store_vm_reconcile): a VM
 * that stopped on its own goes down, rows an engine killed during a start or stop left in
 * "starting" / "stopping" are resolved. VMs with an operation in flight in this engine
 * (e->vm_ops) are left to it, and an answer is dropped when an operation started or ended
 * while it was on the way (e->vm_op_seq): the operation's end re-reads the host, which
 * reconciles again. A VM the reconcile sets down is deleted on the agent (best effort), which
 * gives back devices still recorded for it.
 */
#include "config.h"

#include <string.h>

#include "api.h"
#include "vms.h"

/* ---- JSON ---- */

static void add_vm(JsonBuilder *b, const HdVm *vm)
{
        json_builder_begin_object(b);
        hd_api_add_string(b, "id", vm->id);
        hd_api_add_string(b, "name", vm->name);
        json_builder_set_member_name(b, "memory_mib");
        json_builder_add_int_value(b, vm->memory_mib);
        json_builder_set_member_name(b, "vcpus");
        json_builder_add_int_value(b, vm->vcpus);
        hd_api_add_string(b, "host_id", vm->host_id);
        hd_api_add_string(b, "host_name", vm->host_name);
        hd_api_add_string(b, "state", hd_vm_state_to_string(vm->state));
        hd_api_add_string(b, "hardware_changed", vm->hardware_changed);
        hd_api_add_string(b, "last_error", vm->last_error);
        json_builder_set_member_name(b, "devices");
        json_builder_begin_array(b);
        for (guint i = 0; i < vm->devices->len; i++) {
                const HdVmDevice *d = vm->devices->pdata[i];
                json_builder_begin_object(b);
                hd_api_add_string(b, "address", d->address);
                json_builder_set_member_name(b, "iommu_group");
                json_builder_add_int_value(b, d->iommu_group);
                hd_api_add_string(b, "role", d->requested ? "requested" : "placeholder");
                hd_api_add_string(b, "vendor_id", d->vendor_id);
                hd_api_add_string(b, "device_id", d->device_id);
                json_builder_set_member_name(b, "present");
                json_builder_add_boolean_value(b, d->present);
                json_builder_end_object(b);
        }
        json_builder_end_array(b);
        hd_api_add_string(b, "mdev_placement", vm->mdev_placement);
        json_builder_set_member_name(b, "mdevs");
        json_builder_begin_array(b);
        for (guint i = 0; i < vm->mdevs->len; i++) {
                const HdVmMdev *m = vm->mdevs->pdata[i];
                json_builder_begin_object(b);
                hd_api_add_string(b, "uuid", m->uuid);
                hd_api_add_string(b, "type", m->type);
                json_builder_set_member_name(b, "display");
                json_builder_add_boolean_value(b, m->display);
                hd_api_add_string(b, "parent", m->parent);
                json_builder_end_object(b);
        }
        json_builder_end_array(b);
        json_builder_set_member_name(b, "usb");
        json_builder_begin_array(b);
        for (guint i = 0; i < vm->usb->len; i++) {
                const HdVmUsbDev *u = vm->usb->pdata[i];
                json_builder_begin_object(b);
                json_builder_set_member_name(b, "n");
                json_builder_add_int_value(b, u->n);
                hd_api_add_string(b, "spec", u->spec);
                json_builder_set_member_name(b, "force");
                json_builder_add_boolean_value(b, u->force);
                json_builder_end_object(b);
        }
        json_builder_end_array(b);
        json_builder_set_member_name(b, "scsi");
        json_builder_begin_array(b);
        for (guint i = 0; i < vm->scsi->len; i++) {
                const HdVmLun *l = vm->scsi->pdata[i];
                json_builder_begin_object(b);
                json_builder_set_member_name(b, "n");
                json_builder_add_int_value(b, l->n);
                hd_api_add_string(b, "wwid", l->wwid);
                json_builder_set_member_name(b, "shareable");
                json_builder_add_boolean_value(b, l->shareable);
                json_builder_set_member_name(b, "readonly");
                json_builder_add_boolean_value(b, l->readonly);
                json_builder_set_member_name(b, "force");
                json_builder_add_boolean_value(b, l->force);
                json_builder_end_object(b);
        }
        json_builder_end_array(b);
        json_builder_set_member_name(b, "vhost_scsi");
        json_builder_begin_array(b);
        for (guint i = 0; i < vm->vhost->len; i++) {
                const HdVmVhost *v = vm->vhost->pdata[i];
                json_builder_begin_object(b);
                json_builder_set_member_name(b, "n");
                json_builder_add_int_value(b, v->n);
                hd_api_add_string(b, "wwpn", v->wwpn);
                json_builder_end_object(b);
        }
        json_builder_end_array(b);
        hd_api_add_string(b, "created_at", vm->created_at);
        hd_api_add_string(b, "updated_at", vm->updated_at);
        json_builder_end_object(b);
}

static void respond_vm(HdEngine *e, HdHttpRequest *req, guint status, const char *id)
{
        g_autoptr(GError) error = NULL;
        g_autoptr(HdVm) vm = hd_store_vm_get(e->store, id, &error);
        g_autoptr(JsonBuilder) b = json_builder_new();

        g_autofree char *etag = NULL;

        if (!vm)
                return hd_api_respond_gerror(req, error);
        /* the VM's own ETag, for If-Match on PATCH */
        etag = hd_store_vm_etag(vm->id, vm->updated_at);
        hd_http_request_set_header(req, "ETag", etag);
        add_vm(b, vm);
        hd_api_respond_builder(req, status, b);
}

/* "vm NAME (ID)" for the audit log, or "vm ID" when there is no such VM. */
static char *vm_object(HdEngine *e, const char *id)
{
        g_autoptr(HdVm) vm = hd_store_vm_get(e->store, id, NULL);

        return vm ? g_strdup_printf("vm %s (%s)", vm->name, id) : g_strdup_printf("vm %s", id);
}

/* ---- collection and items ---- */

static void ignore_reply(guint status, GBytes *body, const GError *error, gpointer user_data)
{
}

static void add_vm_item(JsonBuilder *b, gconstpointer vm)
{
        add_vm(b, vm);
}

static void list_vms(HdEngine *e, HdHttpRequest *req)
{
        static const char *const params[] = {"host_id", "state",  "name_prefix",
                                             "limit",   "offset", NULL};
        g_autoptr(GError) error = NULL;
        g_autoptr(GPtrArray) vms = NULL;
        HdVmFilter f = {0};
        guint64 limit = 100, offset = 0;
        HdVmState st;
        guint total = 0;

        if (!hd_api_check_query(req, params) || !hd_api_query_uint(req, "limit", 1, 1000, &limit) ||
            !hd_api_query_uint(req, "offset", 0, G_MAXINT32, &offset))
                return;
        f.state = hd_api_query(req, "state");
        if (f.state && !hd_vm_state_from_string(f.state, &st))
                return hd_http_respond_error(req, HD_HTTP_BAD_REQUEST, "invalid-argument",
                                             "state must be down, starting, running or stopping");
        f.host_id = hd_api_query(req, "host_id");
        f.name_prefix = hd_api_query(req, "name_prefix");
        f.limit = (guint)limit;
        f.offset = (guint)offset;
        if (hd_api_not_modified(e, req, HD_ETAG_VMS, NULL)) /* api-etag.c */
                return;
        vms = hd_store_vms_list(e->store, &f, &total, &error);
        if (!vms)
                return hd_api_respond_gerror(req, error);
        hd_api_respond_page(req, "vms", vms, add_vm_item, total, limit, offset);
}

static void create_vm(HdEngine *e, HdHttpRequest *req)
{
        g_autoptr(GError) error = NULL;
        g_autoptr(JsonObject) o = hd_api_body_object(e, req, "vm.add", "vms");
        g_auto(HdVmBody) vb = {0};
        g_autofree char *id = NULL;
        g_autofree char *object = NULL;
        g_autofree char *what = NULL;
        g_autofree char *location = NULL;

        if (!o)
                return;
        if (!hd_engine_body_vm(o, TRUE, &vb, &error))
                return hd_api_refuse(e, req, "vm.add", "vms", error);
        object = g_strdup_printf("vm %s", vb.name);
        if (!hd_store_vm_add(e->store, vb.name, vb.memory_mib, (guint)vb.vcpus, &id, &error))
                return hd_api_refuse(e, req, "vm.add", object, error);
        g_free(object);
        object = g_strdup_printf("vm %s (%s)", vb.name, id);
        what = g_strdup_printf("%" G_GINT64_FORMAT " MiB, %" G_GINT64_FORMAT " vCPUs",
                               vb.memory_mib, vb.vcpus);
        hd_engine_event(e, hd_api_caller(req), "vm.add", object, "ok", what);
        location = g_strconcat("/v1/vms/", id, NULL);
        hd_http_request_set_header(req, "Location", location);
        respond_vm(e, req, 201, id);
}

static void edit_vm(HdEngine *e, HdHttpRequest *req, const char *id)
{
        g_autoptr(GError) error = NULL;
        g_autofree char *object = vm_object(e, id);
        g_autoptr(JsonObject) o = hd_api_body_object(e, req, "vm.edit", object);
        g_auto(HdVmBody) vb = {0};
        g_autofree char *what = NULL;

        if (!o)
                return;
        if (!hd_engine_body_vm(o, FALSE, &vb, &error))
                return hd_api_refuse(e, req, "vm.edit", object, error);
        /* If-Match: only while the VM is as the caller read it (412 changed otherwise) */
        if (!hd_store_vm_edit_if(e->store, id, hd_http_request_get_header(req, "If-Match"),
                                 vb.mdev_placement, vb.name, vb.memory_mib, (guint)vb.vcpus,
                                 &error))
                return hd_api_refuse(e, req, "vm.edit", object, error);
        what = hd_api_changed_members(o);
        hd_engine_event(e, hd_api_caller(req), "vm.edit", object, "ok", what);
        respond_vm(e, req, HD_HTTP_OK, id);
}

static void delete_vm(HdEngine *e, HdHttpRequest *req, const char *id)
{
        g_autoptr(GError) error = NULL;
        g_autofree char *object = vm_object(e, id);
        g_autoptr(HdVm) vm = NULL;

        if (!hd_api_no_members(e, req, "vm.remove", object, "vm.remove"))
                return;
        vm = hd_store_vm_get(e->store, id, &error);
        if (!vm || !hd_store_vm_remove(e->store, id, &error))
                return hd_api_refuse(e, req, "vm.remove", object, error);
        /* its definition on the agent goes too (best effort: a start redefines anyway) */
        if (vm->host_id) {
                g_autofree char *path = g_strconcat("/v1/vms/", id, NULL);
                hd_sync_agent_call(e->sync, vm->host_id, "DELETE", path, NULL, ignore_reply, NULL);
        }
        hd_engine_event(e, hd_api_caller(req), "vm.remove", object, "ok", "deleted");
        /* mdevs whose removal had failed are leftovers now: removed now or at the next sync */
        if (vm->host_id)
                hd_engine_mdev_leftovers_retry(e, vm->host_id, TRUE);
        hd_http_respond_empty(req, 204);
}

static void add_devices(HdEngine *e, HdHttpRequest *req, const char *id)
{
        g_autoptr(GError) error = NULL;
        g_autofree char *object = vm_object(e, id);
        g_autoptr(JsonObject) o = hd_api_body_object(e, req, "vm.devices.add", object);
        g_auto(HdVmDevicesBody) db = {0};
        g_autofree char *what = NULL;

        if (!o)
                return;
        if (!hd_engine_body_vm_devices(o, &db, &error) ||
            !hd_store_vm_devices_add(e->store, id, db.host_id, (const char *const *)db.addresses,
                                     &error))
                return hd_api_refuse(e, req, "vm.devices.add", object, error);
        {
                g_autofree char *list = g_strjoinv(", ", db.addresses);
                what = g_strdup_printf("host %s: %s", db.host_id, list);
        }
        hd_engine_event(e, hd_api_caller(req), "vm.devices.add", object, "ok", what);
        respond_vm(e, req, HD_HTTP_OK, id);
}

/* After a device or mdev went from VM @id: when that took its last one on @before's host, the
 * VM is no longer pinned there and its definition on that host goes (best effort). */
static void forget_if_unpinned(HdEngine *e, const char *id, const HdVm *before)
{
        g_autoptr(HdVm) after = hd_store_vm_get(e->store, id, NULL);
        g_autofree char *path = NULL;

        if (!before || !before->host_id || !after || after->host_id)
                return;
        path = g_strconcat("/v1/vms/", id, NULL);
        hd_sync_agent_call(e->sync, before->host_id, "DELETE", path, NULL, ignore_reply, NULL);
}

static void remove_device(HdEngine *e, HdHttpRequest *req, const char *id, const char *address)
{
        g_autoptr(GError) error = NULL;
        g_autofree char *object = vm_object(e, id);
        g_autoptr(HdVm) before = NULL;
        char addr[13];

        if (!hd_api_no_members(e, req, "vm.devices.remove", object, "vm.devices.remove"))
                return;
        if (!hd_engine_pci_address(address, addr)) {
                g_set_error(&error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                            "\"%.32s\" is not a PCI address DDDD:BB:DD.F", address);
                return hd_api_refuse(e, req, "vm.devices.remove", object, error);
        }
        before = hd_store_vm_get(e->store, id, NULL);
        if (!hd_store_vm_device_remove(e->store, id, addr, &error))
                return hd_api_refuse(e, req, "vm.devices.remove", object, error);
        hd_engine_event(e, hd_api_caller(req), "vm.devices.remove", object, "ok", addr);
        forget_if_unpinned(e, id, before);
        respond_vm(e, req, HD_HTTP_OK, id);
}

static void add_mdev(HdEngine *e, HdHttpRequest *req, const char *id)
{
        g_autoptr(GError) error = NULL;
        g_autofree char *object = vm_object(e, id);
        g_autoptr(JsonObject) o = hd_api_body_object(e, req, "vm.mdevs.add", object);
        g_auto(HdVmMdevBody) mb = {0};
        g_autofree char *uuid = NULL;
        g_autofree char *what = NULL;

        if (!o)
                return;
        if (!hd_engine_body_vm_mdev(o, &mb, &error) ||
            !hd_store_vm_mdev_add(e->store, id, mb.host_id, mb.type, mb.display, &uuid, &error))
                return hd_api_refuse(e, req, "vm.mdevs.add", object, error);
        what = g_strdup_printf("host %s: %s %s%s", mb.host_id, mb.type, uuid,
                               mb.display ? "" : " (no display)");
        hd_engine_event(e, hd_api_caller(req), "vm.mdevs.add", object, "ok", what);
        respond_vm(e, req, HD_HTTP_OK, id);
}

static void remove_mdev(HdEngine *e, HdHttpRequest *req, const char *id, const char *uuid)
{
        g_autoptr(GError) error = NULL;
        g_autofree char *object = vm_object(e, id);
        g_autoptr(HdVm) before = NULL;

        if (!hd_api_no_members(e, req, "vm.mdevs.remove", object, "vm.mdevs.remove"))
                return;
        if (!g_uuid_string_is_valid(uuid)) {
                g_set_error(&error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                            "\"%.40s\" is not a UUID", uuid);
                return hd_api_refuse(e, req, "vm.mdevs.remove", object, error);
        }
        before = hd_store_vm_get(e->store, id, NULL);
        if (!hd_store_vm_mdev_remove(e->store, id, uuid, &error))
                return hd_api_refuse(e, req, "vm.mdevs.remove", object, error);
        hd_engine_event(e, hd_api_caller(req), "vm.mdevs.remove", object, "ok", uuid);
        forget_if_unpinned(e, id, before);
        if (before && before->host_id)
                hd_engine_mdev_leftovers_retry(e, before->host_id, TRUE);
        respond_vm(e, req, HD_HTTP_OK, id);
}

/* ---- USB devices, SCSI LUNs and vhost-scsi targets (one owner per device and host: the
 * store's) ---- */

/* Parse the body of an add and add the entry to the store: the event's description of the new
 * entry, NULL with @error. */
typedef char *(*EntryAddFunc)(HdEngine *e, const char *id, JsonObject *o, GError **error);

static char *usb_add(HdEngine *e, const char *id, JsonObject *o, GError **error)
{
        g_auto(HdVmUsbBody) b = {0};
        guint n = 0;

        if (!hd_engine_body_vm_usb(o, &b, error) ||
            !hd_store_vm_usb_add(e->store, id, b.host_id, b.spec, b.force, &n, error))
                return NULL;
        return g_strdup_printf("host %s: USB %u %s%s", b.host_id, n, b.spec,
                               b.force ? " (force)" : "");
}

static char *scsi_add(HdEngine *e, const char *id, JsonObject *o, GError **error)
{
        g_auto(HdVmScsiBody) b = {0};
        guint n = 0;

        if (!hd_engine_body_vm_scsi(o, &b, error) ||
            !hd_store_vm_scsi_add(e->store, id, b.host_id, b.wwid, b.shareable, b.readonly, b.force,
                                  &n, error))
                return NULL;
        return g_strdup_printf("host %s: LUN %u %s%s%s%s", b.host_id, n, b.wwid,
                               b.shareable ? " shareable" : "", b.readonly ? " readonly" : "",
                               b.force ? " (force)" : "");
}

static char *vhost_add(HdEngine *e, const char *id, JsonObject *o, GError **error)
{
        g_auto(HdVmVhostBody) b = {0};
        guint n = 0;

        if (!hd_engine_body_vm_vhost(o, &b, error) ||
            !hd_store_vm_vhost_add(e->store, id, b.host_id, b.wwpn, &n, error))
                return NULL;
        return g_strdup_printf("host %s: vhost-scsi %u %s", b.host_id, n, b.wwpn);
}

/* One kind of numbered entry: POST /v1/vms/{id}/PATH and DELETE /v1/vms/{id}/PATH/{n}. The
 * entries (HdVmUsbDev, HdVmLun, HdVmVhost) start with their guint n. */
typedef struct {
        const char *path;          /* "usb", "scsi", "vhost-scsi" */
        const char *add_action;    /* the events: "vm.usb.add" */
        const char *remove_action; /* "vm.usb.remove" */
        const char *plural;        /* "USB devices" */
        const char *label;         /* the remove event's "USB 1 0403:6001" */
        glong list_offset;         /* the HdVm's GPtrArray of them */
        glong key_offset;          /* the entry's identity (char *) */
        EntryAddFunc add;
        gboolean (*remove)(HdStore *s, const char *vm_id, guint n, GError **error);
} EntryKind;

static const EntryKind entry_kinds[] = {
    {"usb", "vm.usb.add", "vm.usb.remove", "USB devices", "USB", G_STRUCT_OFFSET(HdVm, usb),
     G_STRUCT_OFFSET(HdVmUsbDev, spec), usb_add, hd_store_vm_usb_remove},
    {"scsi", "vm.scsi.add", "vm.scsi.remove", "LUNs", "LUN", G_STRUCT_OFFSET(HdVm, scsi),
     G_STRUCT_OFFSET(HdVmLun, wwid), scsi_add, hd_store_vm_scsi_remove},
    {"vhost-scsi", "vm.vhost-scsi.add", "vm.vhost-scsi.remove", "vhost-scsi targets", "vhost-scsi",
     G_STRUCT_OFFSET(HdVm, vhost), G_STRUCT_OFFSET(HdVmVhost, wwpn), vhost_add,
     hd_store_vm_vhost_remove},
};

G_STATIC_ASSERT(G_STRUCT_OFFSET(HdVmUsbDev, n) == 0 && G_STRUCT_OFFSET(HdVmLun, n) == 0 &&
                G_STRUCT_OFFSET(HdVmVhost, n) == 0);

/* The VM's entry @n of kind @k as its remove event describes it ("USB 1 0403:6001"), NULL
 * when it has none. */
static char *entry_describe(const EntryKind *k, const HdVm *vm, guint n)
{
        const GPtrArray *list = G_STRUCT_MEMBER(GPtrArray *, vm, k->list_offset);

        for (guint i = 0; i < list->len; i++)
                if (G_STRUCT_MEMBER(guint, list->pdata[i], 0) == n)
                        return g_strdup_printf(
                            "%s %u %s", k->label, n,
                            G_STRUCT_MEMBER(char *, list->pdata[i], k->key_offset));
        return NULL;
}

static const EntryKind *entry_kind(const char *path)
{
        for (gsize i = 0; i < G_N_ELEMENTS(entry_kinds); i++)
                if (strcmp(entry_kinds[i].path, path) == 0)
                        return &entry_kinds[i];
        return NULL;
}

static void add_entry(HdEngine *e, HdHttpRequest *req, const EntryKind *k, const char *id)
{
        g_autoptr(GError) error = NULL;
        g_autofree char *object = vm_object(e, id);
        g_autoptr(JsonObject) o = hd_api_body_object(e, req, k->add_action, object);
        g_autofree char *what = NULL;

        if (!o)
                return;
        if (!(what = k->add(e, id, o, &error)))
                return hd_api_refuse(e, req, k->add_action, object, error);
        hd_engine_event(e, hd_api_caller(req), k->add_action, object, "ok", what);
        respond_vm(e, req, HD_HTTP_OK, id);
}

/* DELETE /v1/vms/{id}/PATH/{n}: @n the entry's number in the VM. */
static void remove_entry(HdEngine *e, HdHttpRequest *req, const EntryKind *k, const char *id,
                         const char *n_text)
{
        g_autoptr(GError) error = NULL;
        g_autofree char *object = vm_object(e, id);
        g_autoptr(HdVm) before = NULL;
        g_autofree char *what = NULL;
        guint64 n = 0;

        if (!hd_api_no_members(e, req, k->remove_action, object, k->remove_action))
                return;
        if (!g_ascii_string_to_unsigned(n_text, 10, 1, 1000000, &n, NULL) || *n_text == '+' ||
            *n_text == '0') {
                g_set_error(&error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                            "\"%.32s\" is not the number of one of the VM's %s (GET /v1/vms/%s "
                            "lists them with their n)",
                            n_text, k->plural, id);
                return hd_api_refuse(e, req, k->remove_action, object, error);
        }
        before = hd_store_vm_get(e->store, id, NULL);
        if (!k->remove(e->store, id, (guint)n, &error))
                return hd_api_refuse(e, req, k->remove_action, object, error);
        if (before)
                what = entry_describe(k, before, (guint)n);
        hd_engine_event(e, hd_api_caller(req), k->remove_action, object, "ok",
                        what ? what : n_text);
        forget_if_unpinned(e, id, before);
        respond_vm(e, req, HD_HTTP_OK, id);
}

/* ---- start / stop / destroy through the agent ---- */

typedef struct {
        HdEngine *e;
        HdHttpRequest *req;
        char *id;
        char *host_id;
        char *action;     /* "start", "stop", "destroy" */
        gboolean reached; /* the agent was asked to start, stop or destroy: devices may have
                           * moved (the host is read again at the end; not after a refused
                           * lookup or definition, which move nothing) */
        char *object;
        char *define; /* POST /v1/vms body */
        /* mediated devices: created before the start, removed after the VM is down */
        GPtrArray *mdevs;  /* HdVmMdev: the VM's, to create (start) or remove (cleanup) */
        guint mdev_i;      /* the current one */
        GPtrArray *types;  /* HdHostMdevType: the host's capacity, placement's working copy */
        char *placement;   /* the VM's policy: compact or separate */
        GPtrArray *tried;  /* parents the agent refused for the current mdev */
        char *parent;      /* the parent asked for the current mdev */
        char *refusal;     /* the agent's refusal of the current mdev */
        gboolean reread;   /* the capacity was read again for the current mdev */
        gboolean cleaning; /* the end's removals are under way */
        HdVmState end_to;  /* the end the removals lead to */
        char *end_failure;
        char *refused_code; /* the agent refused the define or start 409 for a USB device, a
                             * LUN or a vhost target: "in-use", "device-absent" or "refused"
                             * (a target not ready), answered as such */
} VmOp;

static void op_free(VmOp *op)
{
        hd_http_request_unref(op->req);
        g_free(op->id);
        g_free(op->host_id);
        g_free(op->action);
        g_free(op->object);
        g_free(op->define);
        g_clear_pointer(&op->mdevs, g_ptr_array_unref);
        g_clear_pointer(&op->types, g_ptr_array_unref);
        g_clear_pointer(&op->tried, g_ptr_array_unref);
        g_free(op->placement);
        g_free(op->parent);
        g_free(op->refusal);
        g_free(op->end_failure);
        g_free(op->refused_code);
        g_free(op);
}

/* The agent's error message, or "HTTP STATUS". */
static char *agent_message(guint status, GBytes *body, const GError *error)
{
        char *message;

        if (error)
                return g_strdup(error->message);
        message = hd_api_agent_error_member(body, "message");
        return message ? message : g_strdup_printf("the agent answered HTTP %u", status);
}

/* A 409 of the agent's define or start that the admin can act on (the contract of USB, SCSI
 * and vhost-scsi: another domain owns the device, it is not plugged in, or the agent refused
 * it, e.g. a vhost target without a nexus or LUN): the engine's code for it, else NULL. */
static char *agent_refused_code(guint status, GBytes *body)
{
        g_autofree char *code = NULL;

        if (status != HD_HTTP_CONFLICT)
                return NULL;
        code = hd_api_agent_error_member(body, "code");
        if (g_strcmp0(code, "in-use") == 0 || g_strcmp0(code, "device-absent") == 0 ||
            g_strcmp0(code, "refused") == 0)
                return g_steal_pointer(&code);
        return NULL;
}

static gboolean cancelled(const GError *error)
{
        return error && g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
}

/* The end of an operation: the answer, the audit row, the host's inventory read again. */
static void op_finish(VmOp *op, HdVmState to, const char *failure)
{
        HdEngine *e = op->e;
        g_autoptr(GError) error = NULL;
        g_autofree char *action = g_strconcat("vm.", op->action, NULL);
        guint from = strcmp(op->action, "start") == 0 ? HD_VM_MASK(HD_VM_STARTING)
                                                      : HD_VM_MASK(HD_VM_STOPPING);
        g_autofree char *last_error =
            failure ? g_strdup_printf("%s: %s", op->action, failure) : NULL;

        g_hash_table_remove(e->vm_ops, op->id);
        e->vm_op_seq++;
        if (!hd_store_vm_set_state(e->store, op->id, from, to, last_error, &error)) {
                hd_api_refuse(e, op->req, action, op->object, error);
        } else if (failure && op->refused_code) {
                /* the agent's one-owner rule, an unplugged device or one it refuses: the
                 * admin's to act on */
                g_autoptr(HdVm) vm = hd_store_vm_get(e->store, op->id, NULL);
                hd_engine_event(e, hd_api_caller(op->req), action, op->object, "refused", failure);
                hd_http_respond_error(
                    op->req, HD_HTTP_CONFLICT, op->refused_code,
                    "VM %s: the agent of host %s refused to %s it: %s", vm ? vm->name : op->id,
                    vm && vm->host_name ? vm->host_name : op->host_id, op->action, failure);
        } else if (failure) {
                g_autoptr(HdVm) vm = hd_store_vm_get(e->store, op->id, NULL);
                hd_engine_event(e, hd_api_caller(op->req), action, op->object, "failed", failure);
                hd_http_respond_error(
                    op->req, 502, "agent-failed", "VM %s: the agent of host %s could not %s it: %s",
                    vm ? vm->name : op->id, vm && vm->host_name ? vm->host_name : op->host_id,
                    op->action, failure);
        } else {
                hd_engine_event(e, hd_api_caller(op->req), action, op->object, "ok",
                                hd_vm_state_to_string(to));
                respond_vm(e, op->req, HD_HTTP_OK, op->id);
        }
        if (op->reached)
                hd_sync_host_start(e->sync, op->host_id);
        hd_http_request_resume(op->req);
        op_free(op);
}

static void op_end(VmOp *op, HdVmState to, const char *failure);

/* The engine stops (its agent calls are cancelled): the rows stay as they are, the next
 * engine reconciles them. */
static void op_abandon(VmOp *op)
{
        if (op->e->vm_ops)
                g_hash_table_remove(op->e->vm_ops, op->id);
        hd_http_request_resume(op->req);
        op_free(op);
}

static void agent(VmOp *op, const char *method, const char *suffix, const char *body,
                  HdAgentReplyFunc func)
{
        g_autofree char *path = g_strconcat("/v1/vms", suffix ? "/" : "", suffix ? op->id : "",
                                            suffix ? suffix : "", NULL);
        hd_sync_agent_call(op->e->sync, op->host_id, method, path, body, func, op);
}

static void on_action(guint status, GBytes *body, const GError *error, gpointer data)
{
        VmOp *op = data;
        gboolean start = strcmp(op->action, "start") == 0;
        g_autofree char *message = NULL;

        if (cancelled(error))
                return op_abandon(op);
        if (status == 200)
                return op_end(op, start ? HD_VM_RUNNING : HD_VM_DOWN, NULL);
        if (!start && status == 404)
                /* the agent has no such domain: nothing runs */
                return op_end(op, HD_VM_DOWN, NULL);
        message = agent_message(status, body, error);
        if (start)
                op->refused_code = agent_refused_code(status, body);
        op_end(op, start ? HD_VM_DOWN : HD_VM_RUNNING, message);
}

static void on_defined(guint status, GBytes *body, const GError *error, gpointer data)
{
        VmOp *op = data;
        g_autofree char *message = NULL;

        if (cancelled(error))
                return op_abandon(op);
        if (status != 200) {
                message = agent_message(status, body, error);
                op->refused_code = agent_refused_code(status, body);
                return op_end(op, HD_VM_DOWN, message);
        }
        op->reached = TRUE;
        agent(op, "POST", "/start", NULL, on_action);
}

static void on_undefined(guint status, GBytes *body, const GError *error, gpointer data)
{
        VmOp *op = data;
        g_autofree char *message = NULL;

        if (cancelled(error))
                return op_abandon(op);
        if (status != 200 && status != 404) {
                message = agent_message(status, body, error);
                return op_end(op, HD_VM_DOWN, message);
        }
        agent(op, "POST", NULL, op->define, on_defined);
}

/* Whether the agent's VM document says it is active. */
static gboolean agent_vm_active(GBytes *body)
{
        g_autoptr(JsonParser) p = json_parser_new_immutable();
        JsonObject *o = hd_api_agent_answer_object(body, p);
        JsonNode *n;

        if (!o)
                return FALSE;
        n = json_object_get_member(o, "active");
        return n && JSON_NODE_HOLDS_VALUE(n) && json_node_get_value_type(n) == G_TYPE_BOOLEAN &&
               json_node_get_boolean(n);
}

static void on_looked_up(guint status, GBytes *body, const GError *error, gpointer data)
{
        VmOp *op = data;
        g_autofree char *message = NULL;

        if (cancelled(error))
                return op_abandon(op);
        if (status == 404)
                return agent(op, "POST", NULL, op->define, on_defined);
        if (status == 200 && agent_vm_active(body))
                /* it runs already (an earlier start the engine did not see end) */
                return op_end(op, HD_VM_RUNNING, NULL);
        if (status == 200)
                /* defined and shut off: defined again, memory, vCPUs or devices may differ */
                return agent(op, "DELETE", "", NULL, on_undefined);
        message = agent_message(status, body, error);
        op_end(op, HD_VM_DOWN, message);
}

/* ---- mediated devices around start and stop ----
 *
 * Placement (oVirt's policies, as VDSM applies them): compact takes the first parent (by name)
 * whose type has available_instances >= 1; separate takes the first such parent that holds no
 * instance of the type yet, falling back to compact. The capacity is the store's (the sync's
 * last read of the agent's GET /v1/mdev), kept up to date in the operation as it creates
 * instances; a 409 of the agent (capacity taken meanwhile, a UUID in use) reads it again
 * once, and the next parent is tried. */

static gboolean tried_parent(GPtrArray *tried, const char *parent)
{
        for (guint i = 0; tried && i < tried->len; i++)
                if (strcmp(tried->pdata[i], parent) == 0)
                        return TRUE;
        return FALSE;
}

/* NVIDIA's vGPU parents (before Ampere) make one type at a time: a parent of vendor 0x10de
 * holding an instance of another type than @type cannot make @type (VDSM skips it too). */
static gboolean holds_other_type(GPtrArray *types, const HdHostMdevType *t, const char *type)
{
        const char *v = t->parent_vendor_id;

        if (!v || (g_ascii_strcasecmp(v, "10de") != 0 && g_ascii_strcasecmp(v, "0x10de") != 0))
                return FALSE;
        for (guint i = 0; i < types->len; i++) {
                const HdHostMdevType *o = types->pdata[i];
                if (strcmp(o->parent, t->parent) == 0 && strcmp(o->type, type) != 0 &&
                    o->instances > 0)
                        return TRUE;
        }
        return FALSE;
}

static const HdHostMdevType *place(GPtrArray *types, const char *type, const char *policy,
                                   GPtrArray *tried)
{
        const HdHostMdevType *first = NULL;

        for (guint i = 0; i < types->len; i++) {
                const HdHostMdevType *t = types->pdata[i];

                if (strcmp(t->type, type) != 0 || t->available_instances < 1 ||
                    tried_parent(tried, t->parent) || holds_other_type(types, t, type))
                        continue;
                if (strcmp(policy, "separate") != 0 || t->instances == 0)
                        return t;
                if (!first)
                        first = t;
        }
        return first;
}

/* One instance of @type was made on @parent: its count up, its capacity down. */
static void took(GPtrArray *types, const char *parent, const char *type)
{
        for (guint i = 0; i < types->len; i++) {
                HdHostMdevType *t = types->pdata[i];
                if (strcmp(t->parent, parent) == 0 && strcmp(t->type, type) == 0) {
                        t->instances++;
                        t->available_instances = MAX(t->available_instances - 1, 0);
                }
        }
}

static GPtrArray *copy_types(GPtrArray *types)
{
        GPtrArray *out = g_ptr_array_new_with_free_func((GDestroyNotify)hd_host_mdev_type_free);

        for (guint i = 0; types && i < types->len; i++) {
                const HdHostMdevType *t = types->pdata[i];
                HdHostMdevType *c = g_new0(HdHostMdevType, 1);
                c->parent = g_strdup(t->parent);
                c->type = g_strdup(t->type);
                c->name = g_strdup(t->name);
                c->description = g_strdup(t->description);
                c->device_api = g_strdup(t->device_api);
                c->available_instances = t->available_instances;
                c->instances = t->instances;
                c->parent_vendor_id = g_strdup(t->parent_vendor_id);
                g_ptr_array_add(out, c);
        }
        return out;
}

/* Before the reservation: every mdev of the VM has a parent in the stored capacity; else why
 * not (NULL: it fits). */
static char *mdev_plan_refusal(HdEngine *e, const HdVm *vm)
{
        g_autoptr(GPtrArray) stored = hd_store_host_mdev_types(e->store, vm->host_id, NULL);
        g_autoptr(GPtrArray) types = copy_types(stored);

        for (guint i = 0; i < vm->mdevs->len; i++) {
                const HdVmMdev *m = vm->mdevs->pdata[i];
                const HdHostMdevType *t = place(types, m->type, vm->mdev_placement, NULL);
                if (!t)
                        return g_strdup_printf(
                            "cannot start VM %s: no mediated device parent on host %s has "
                            "capacity left for type %s (GET /v1/hosts/%s/mdev); stop a VM "
                            "using one, or remove the mdev from this VM",
                            vm->name, vm->host_name ? vm->host_name : vm->host_id, m->type,
                            vm->host_id);
                took(types, t->parent, m->type);
        }
        return NULL;
}

static void mdev_create_next(VmOp *op);

static void mdev_next_instance(VmOp *op)
{
        op->mdev_i++;
        op->reread = FALSE;
        g_clear_pointer(&op->tried, g_ptr_array_unref);
        g_clear_pointer(&op->refusal, g_free);
        mdev_create_next(op);
}

/* The agent's mdev document lists @uuid active with @type: its parent (NULL: it does not). */
static char *agent_mdev_parent(GBytes *body, const char *uuid, const char *type)
{
        g_autoptr(JsonParser) p = json_parser_new_immutable();
        JsonObject *answer = hd_api_agent_answer_object(body, p);
        JsonNode *n;
        JsonArray *a;

        if (!answer)
                return NULL;
        n = json_object_get_member(answer, "mdevs");
        if (!n || !JSON_NODE_HOLDS_ARRAY(n))
                return NULL;
        a = json_node_get_array(n);
        for (guint i = 0; i < json_array_get_length(a); i++) {
                JsonNode *e = json_array_get_element(a, i);
                JsonObject *o = JSON_NODE_HOLDS_OBJECT(e) ? json_node_get_object(e) : NULL;
                const char *u = o ? json_object_get_string_member_with_default(o, "uuid", "") : "";
                if (strcmp(u, uuid) == 0 &&
                    g_strcmp0(json_object_get_string_member_with_default(o, "type", NULL), type) ==
                        0 &&
                    json_object_get_boolean_member_with_default(o, "active", FALSE))
                        return g_strdup(
                            json_object_get_string_member_with_default(o, "parent", NULL));
        }
        return NULL;
}

static void on_mdev_reread(guint status, GBytes *body, const GError *error, gpointer data)
{
        VmOp *op = data;
        const HdVmMdev *m = op->mdevs->pdata[op->mdev_i];
        g_autoptr(GPtrArray) types = NULL;
        g_autofree char *mine = NULL;
        g_autoptr(GError) local = NULL;

        if (cancelled(error))
                return op_abandon(op);
        if (status != 200 || !(types = hd_sync_parse_mdev(body))) {
                g_autofree char *message = agent_message(status, body, error);
                g_autofree char *failure =
                    g_strdup_printf("mdev %s (%s): %s; reading the capacity again failed: %s",
                                    m->uuid, m->type, op->refusal, message);
                return op_end(op, HD_VM_DOWN, failure);
        }
        if (!hd_store_host_mdev_apply(op->e->store, op->host_id, NULL, types, NULL, &local)) {
                g_warning("host %s: %s", op->host_id, local->message);
                g_clear_error(&local);
        }
        g_clear_pointer(&op->types, g_ptr_array_unref);
        /* from the store: with the parents' vendor ids (the NVIDIA rule) */
        op->types = hd_store_host_mdev_types(op->e->store, op->host_id, NULL);
        if (!op->types)
                op->types = g_steal_pointer(&types);
        /* the UUID in use is this VM's own instance (made by a start the engine did not see
         * end): it is taken as it is */
        mine = agent_mdev_parent(body, m->uuid, m->type);
        if (mine) {
                if (!hd_store_vm_mdev_placed(op->e->store, op->id, m->uuid, mine, &local))
                        g_warning("VM %s: %s", op->id, local->message);
                return mdev_next_instance(op);
        }
        mdev_create_next(op);
}

static void on_mdev_created(guint status, GBytes *body, const GError *error, gpointer data)
{
        VmOp *op = data;
        const HdVmMdev *m = op->mdevs->pdata[op->mdev_i];
        g_autofree char *message = NULL;
        g_autoptr(GError) local = NULL;

        if (cancelled(error))
                return op_abandon(op);
        if (status == 200) {
                op->reached = TRUE;
                if (!hd_store_vm_mdev_placed(op->e->store, op->id, m->uuid, op->parent, &local))
                        g_warning("VM %s: %s", op->id, local->message);
                took(op->types, op->parent, m->type);
                return mdev_next_instance(op);
        }
        message = agent_message(status, body, error);
        if (status == 409 && !op->reread) {
                /* capacity changed (or the UUID is in use): read it again once, then the next
                 * parent */
                op->reread = TRUE;
                if (!op->tried)
                        op->tried = g_ptr_array_new_with_free_func(g_free);
                g_ptr_array_add(op->tried, g_strdup(op->parent));
                g_free(op->refusal);
                op->refusal = g_steal_pointer(&message);
                hd_sync_agent_call(op->e->sync, op->host_id, "GET", "/v1/mdev", NULL,
                                   on_mdev_reread, op);
                return;
        }
        {
                g_autofree char *failure = g_strdup_printf("mdev %s (%s on %s): %s", m->uuid,
                                                           m->type, op->parent, message);
                op_end(op, HD_VM_DOWN, failure);
        }
}

/* Create the VM's next mdev on the parent the policy picks; all made: the VM's start. */
static void mdev_create_next(VmOp *op)
{
        g_autoptr(JsonBuilder) b = NULL;
        g_autoptr(JsonNode) root = NULL;
        g_autofree char *body = NULL;
        const HdVmMdev *m;
        const HdHostMdevType *t;

        if (op->mdev_i >= op->mdevs->len)
                return agent(op, "GET", "", NULL, on_looked_up);
        m = op->mdevs->pdata[op->mdev_i];
        t = place(op->types, m->type, op->placement, op->tried);
        if (!t) {
                g_autofree char *failure =
                    op->refusal ? g_strdup_printf("mdev %s (%s): %s", m->uuid, m->type, op->refusal)
                                : g_strdup_printf("mdev %s: no parent has capacity left for "
                                                  "type %s",
                                                  m->uuid, m->type);
                return op_end(op, HD_VM_DOWN, failure);
        }
        g_free(op->parent);
        op->parent = g_strdup(t->parent);
        b = json_builder_new();
        json_builder_begin_object(b);
        hd_api_add_string(b, "parent", t->parent);
        hd_api_add_string(b, "type", m->type);
        hd_api_add_string(b, "uuid", m->uuid);
        json_builder_end_object(b);
        root = json_builder_get_root(b);
        body = json_to_string(root, FALSE);
        hd_sync_agent_call(op->e->sync, op->host_id, "POST", "/v1/mdev", body, on_mdev_created, op);
}

static void mdev_remove_next(VmOp *op);

static void on_mdev_removed(guint status, GBytes *body, const GError *error, gpointer data)
{
        VmOp *op = data;
        const HdVmMdev *m = op->mdevs->pdata[op->mdev_i];
        g_autoptr(GError) local = NULL;

        if (cancelled(error))
                return op_abandon(op);
        if (status == 200 || status == 404) {
                /* gone (404: already, e.g. the host rebooted) */
                if (!hd_store_vm_mdev_placed(op->e->store, op->id, m->uuid, NULL, &local))
                        g_warning("VM %s: %s", op->id, local->message);
        } else {
                /* kept as placed: the next start or stop tries again */
                g_autofree char *message = agent_message(status, body, error);
                g_autofree char *what =
                    g_strdup_printf("mdev %s on %s: %s", m->uuid, m->parent, message);
                hd_engine_event(op->e, "engine", "vm.mdevs.remove", op->object, "failed", what);
        }
        op->mdev_i++;
        mdev_remove_next(op);
}

/* Remove the VM's next mdev the engine created; none left: the operation's end. */
static void mdev_remove_next(VmOp *op)
{
        while (op->mdev_i < op->mdevs->len &&
               !((const HdVmMdev *)op->mdevs->pdata[op->mdev_i])->parent)
                op->mdev_i++;
        if (op->mdev_i >= op->mdevs->len)
                return op_finish(op, op->end_to, op->end_failure);
        {
                const HdVmMdev *m = op->mdevs->pdata[op->mdev_i];
                g_autofree char *path = g_strconcat("/v1/mdev/", m->uuid, "/remove", NULL);
                op->reached = TRUE;
                hd_sync_agent_call(op->e->sync, op->host_id, "POST", path, "{}", on_mdev_removed,
                                   op);
        }
}

/* The end of an operation; a VM going down first gives back the mdevs the engine created for
 * it (after a stop, or after a start that failed on the way). */
static void op_end(VmOp *op, HdVmState to, const char *failure)
{
        g_autoptr(HdVm) vm = NULL;

        if (to != HD_VM_DOWN || op->cleaning)
                return op_finish(op, to, failure);
        vm = hd_store_vm_get(op->e->store, op->id, NULL);
        op->cleaning = TRUE;
        op->end_to = to;
        op->end_failure = g_strdup(failure);
        g_clear_pointer(&op->mdevs, g_ptr_array_unref);
        op->mdevs = vm ? g_steal_pointer(&vm->mdevs) : g_ptr_array_new();
        op->mdev_i = 0;
        mdev_remove_next(op);
}

/* The agent's POST /v1/vms body: the requested devices only, and the VM's mdevs by UUID. */
static char *define_body(const HdVm *vm)
{
        g_autoptr(JsonBuilder) b = json_builder_new();
        g_autoptr(JsonNode) root = NULL;

        json_builder_begin_object(b);
        hd_api_add_string(b, "name", vm->id);
        json_builder_set_member_name(b, "memory_mib");
        json_builder_add_int_value(b, vm->memory_mib);
        json_builder_set_member_name(b, "vcpus");
        json_builder_add_int_value(b, vm->vcpus);
        json_builder_set_member_name(b, "hostdevs");
        json_builder_begin_array(b);
        for (guint i = 0; i < vm->devices->len; i++) {
                const HdVmDevice *d = vm->devices->pdata[i];
                if (d->requested)
                        json_builder_add_string_value(b, d->address);
        }
        json_builder_end_array(b);
        if (vm->mdevs && vm->mdevs->len) {
                /* created on the agent just before the start (mdev_create_next) */
                json_builder_set_member_name(b, "mdevs");
                json_builder_begin_array(b);
                for (guint i = 0; i < vm->mdevs->len; i++)
                        json_builder_add_string_value(
                            b, ((const HdVmMdev *)vm->mdevs->pdata[i])->uuid);
                json_builder_end_array(b);
        }
        if (vm->usb->len) {
                /* by spec: the agent resolves each to the device plugged in now */
                json_builder_set_member_name(b, "usb");
                json_builder_begin_array(b);
                for (guint i = 0; i < vm->usb->len; i++) {
                        const HdVmUsbDev *u = vm->usb->pdata[i];
                        json_builder_begin_object(b);
                        hd_api_add_string(b, "spec", u->spec);
                        json_builder_set_member_name(b, "force");
                        json_builder_add_boolean_value(b, u->force);
                        json_builder_end_object(b);
                }
                json_builder_end_array(b);
        }
        if (vm->scsi->len) {
                /* by WWID: the agent resolves each to its H:C:T:L now */
                json_builder_set_member_name(b, "scsi");
                json_builder_begin_array(b);
                for (guint i = 0; i < vm->scsi->len; i++) {
                        const HdVmLun *l = vm->scsi->pdata[i];
                        json_builder_begin_object(b);
                        hd_api_add_string(b, "wwid", l->wwid);
                        json_builder_set_member_name(b, "shareable");
                        json_builder_add_boolean_value(b, l->shareable);
                        json_builder_set_member_name(b, "readonly");
                        json_builder_add_boolean_value(b, l->readonly);
                        json_builder_set_member_name(b, "force");
                        json_builder_add_boolean_value(b, l->force);
                        json_builder_end_object(b);
                }
                json_builder_end_array(b);
        }
        if (vm->vhost->len) {
                /* by WWPN: the agent checks each target in configfs at the start */
                json_builder_set_member_name(b, "vhost_scsi");
                json_builder_begin_array(b);
                for (guint i = 0; i < vm->vhost->len; i++) {
                        json_builder_begin_object(b);
                        hd_api_add_string(b, "wwpn",
                                          ((const HdVmVhost *)vm->vhost->pdata[i])->wwpn);
                        json_builder_end_object(b);
                }
                json_builder_end_array(b);
        }
        json_builder_end_object(b);
        root = json_builder_get_root(b);
        return json_to_string(root, FALSE);
}

static void vm_action(HdEngine *e, HdHttpRequest *req, const char *id, const char *action)
{
        g_autoptr(GError) error = NULL;
        g_autofree char *object = vm_object(e, id);
        g_autofree char *event = g_strconcat("vm.", action, NULL);
        g_autoptr(HdVm) vm = NULL;
        gboolean start = strcmp(action, "start") == 0;
        VmOp *op;

        if (!hd_api_no_members(e, req, event, object, event))
                return;
        vm = hd_store_vm_get(e->store, id, &error);
        if (!vm)
                return hd_api_refuse(e, req, event, object, error);
        if (g_hash_table_contains(e->vm_ops, id)) {
                g_set_error(&error, HD_STORE_ERROR, HD_STORE_ERROR_REFUSED,
                            "VM %s is %s: wait until that ends, then %s it", vm->name,
                            hd_vm_state_to_string(vm->state), action);
                return hd_api_refuse(e, req, event, object, error);
        }
        if (start && vm->mdevs->len && vm->host_id) {
                g_autofree char *why = mdev_plan_refusal(e, vm);
                if (why) {
                        g_set_error_literal(&error, HD_STORE_ERROR, HD_STORE_ERROR_REFUSED, why);
                        return hd_api_refuse(e, req, event, object, error);
                }
        }
        if (start ? !hd_store_vm_start_reserve(e->store, id, &error)
                  : !hd_store_vm_set_state(e->store, id,
                                           strcmp(action, "stop") == 0
                                               ? HD_VM_MASK(HD_VM_RUNNING)
                                               : HD_VM_MASK(HD_VM_RUNNING) |
                                                     HD_VM_MASK(HD_VM_STOPPING),
                                           HD_VM_STOPPING, NULL, &error)) {
                if (!start && g_error_matches(error, HD_STORE_ERROR, HD_STORE_ERROR_REFUSED)) {
                        g_clear_error(&error);
                        g_set_error(&error, HD_STORE_ERROR, HD_STORE_ERROR_REFUSED,
                                    "VM %s is %s: only a running VM can be %s", vm->name,
                                    hd_vm_state_to_string(vm->state),
                                    strcmp(action, "stop") == 0 ? "stopped" : "destroyed");
                }
                return hd_api_refuse(e, req, event, object, error);
        }
        if (start) /* what the engine itself takes to check and reserve (bench/engine/run) */
                hd_engine_log(e, "info",
                              "VM %s: start checked and reserved %.3f ms after its "
                              "request arrived",
                              vm->name,
                              (g_get_monotonic_time() - hd_http_request_get_start(req)) / 1e3);
        op = g_new0(VmOp, 1);
        op->e = e;
        op->req = hd_http_request_ref(req);
        op->id = g_strdup(id);
        op->host_id = g_strdup(vm->host_id);
        op->action = g_strdup(action);
        op->object = g_steal_pointer(&object);
        g_hash_table_add(e->vm_ops, g_strdup(id));
        e->vm_op_seq++;
        hd_http_request_suspend(req);
        if (start && vm->mdevs->len) {
                g_autoptr(GPtrArray) stored = hd_store_host_mdev_types(e->store, vm->host_id, NULL);
                op->define = define_body(vm);
                op->types = copy_types(stored);
                op->placement = g_strdup(vm->mdev_placement);
                op->mdevs = g_steal_pointer(&vm->mdevs);
                mdev_create_next(op);
        } else if (start) {
                op->define = define_body(vm);
                agent(op, "GET", "", NULL, on_looked_up);
        } else {
                op->reached = TRUE;
                agent(op, "POST", strcmp(action, "stop") == 0 ? "/stop" : "/destroy", NULL,
                      on_action);
        }
}

/* ---- reconcile ---- */

typedef struct {
        HdEngine *e;
        char *host_id;
        guint seq;
        char *vm_id; /* the VM set down (its DELETE) */
        char *uuid;  /* the mdev removed */
} Reconcile;

static void reconcile_free(Reconcile *r)
{
        g_free(r->host_id);
        g_free(r->vm_id);
        g_free(r->uuid);
        g_free(r);
}

static void on_reconcile_mdev_removed(guint status, GBytes *body, const GError *error,
                                      gpointer data)
{
        Reconcile *r = data;
        g_autoptr(GError) local = NULL;

        if (!cancelled(error) && r->e->vm_ops && (status == 200 || status == 404) &&
            !hd_store_vm_mdev_placed(r->e->store, r->vm_id, r->uuid, NULL, &local))
                hd_engine_log(r->e, "warning", "VM %s: %s", r->vm_id, local->message);
        reconcile_free(r);
}

/* A VM the reconcile set down and the agent deleted: the mdevs the engine created for it go
 * too (best effort: one the agent keeps stays recorded for the next stop). */
static void reconcile_mdevs(HdEngine *e, const char *host_id, const char *vm_id)
{
        g_autoptr(HdVm) vm = hd_store_vm_get(e->store, vm_id, NULL);

        if (!vm || vm->state != HD_VM_DOWN || g_hash_table_contains(e->vm_ops, vm_id))
                return;
        for (guint i = 0; i < vm->mdevs->len; i++) {
                const HdVmMdev *m = vm->mdevs->pdata[i];
                g_autofree char *path = NULL;
                Reconcile *r;

                if (!m->parent)
                        continue;
                path = g_strconcat("/v1/mdev/", m->uuid, "/remove", NULL);
                r = g_new0(Reconcile, 1);
                r->e = e;
                r->host_id = g_strdup(host_id);
                r->vm_id = g_strdup(vm_id);
                r->uuid = g_strdup(m->uuid);
                hd_sync_agent_call(e->sync, host_id, "POST", path, "{}", on_reconcile_mdev_removed,
                                   r);
        }
}

static void on_reconcile_delete(guint status, GBytes *body, const GError *error, gpointer data)
{
        Reconcile *r = data;

        if (!cancelled(error) && r->e->vm_ops && status != 200 && status != 404)
                hd_engine_vms_host_synced(r->host_id, r->e);
        else if (!cancelled(error) && r->e->vm_ops)
                reconcile_mdevs(r->e, r->host_id, r->vm_id);
        reconcile_free(r);
}

static void on_agent_vms(guint status, GBytes *body, const GError *error, gpointer data)
{
        Reconcile *r = data;
        HdEngine *e = r->e;
        g_autoptr(GError) local = NULL;
        g_autoptr(JsonParser) p = json_parser_new_immutable();
        g_autoptr(GHashTable) agent = g_hash_table_new(g_str_hash, g_str_equal);
        g_autoptr(GPtrArray) changes = NULL;
        JsonObject *answer;
        JsonNode *n;
        JsonArray *a;

        if (cancelled(error) || !e->vm_ops || status != 200 || r->seq != e->vm_op_seq)
                goto out;
        if (!(answer = hd_api_agent_answer_object(body, p)) ||
            !(n = json_object_get_member(answer, "vms")) || !JSON_NODE_HOLDS_ARRAY(n))
                goto out;
        a = json_node_get_array(n);
        for (guint i = 0; i < json_array_get_length(a); i++) {
                JsonNode *v = json_array_get_element(a, i);
                JsonObject *vo = JSON_NODE_HOLDS_OBJECT(v) ? json_node_get_object(v) : NULL;
                JsonNode *name = vo ? json_object_get_member(vo, "name") : NULL;
                JsonNode *active = vo ? json_object_get_member(vo, "active") : NULL;
                if (!name || !JSON_NODE_HOLDS_VALUE(name) ||
                    json_node_get_value_type(name) != G_TYPE_STRING)
                        continue;
                g_hash_table_insert(
                    agent, (gpointer)json_node_get_string(name),
                    GINT_TO_POINTER(active && JSON_NODE_HOLDS_VALUE(active) &&
                                            json_node_get_value_type(active) == G_TYPE_BOOLEAN &&
                                            json_node_get_boolean(active)
                                        ? 2
                                        : 1));
        }
        if (!hd_store_vm_reconcile(e->store, r->host_id, agent, e->vm_ops, &changes, &local)) {
                hd_engine_log(e, "warning", "host %s: reconciling its VMs: %s", r->host_id,
                              local->message);
                goto out;
        }
        for (guint i = 0; i < changes->len; i++) {
                const HdVmChange *c = changes->pdata[i];
                g_autofree char *object = g_strdup_printf("vm %s (%s)", c->name, c->id);
                g_autofree char *message =
                    g_strdup_printf("%s -> %s: its host's agent reports it %s",
                                    hd_vm_state_to_string(c->from), hd_vm_state_to_string(c->to),
                                    c->to == HD_VM_RUNNING ? "running" : "not running");
                hd_engine_event(e, "engine", "vm.reconcile", object, "ok", message);
                if (c->to == HD_VM_DOWN) {
                        /* give back what the agent may still hold for it; refused when it runs
                         * after all (a start the agent finished after answering GET /v1/vms):
                         * then reconciled again */
                        g_autofree char *path = g_strconcat("/v1/vms/", c->id, NULL);
                        Reconcile *again = g_new0(Reconcile, 1);
                        again->e = e;
                        again->host_id = g_strdup(r->host_id);
                        again->vm_id = g_strdup(c->id);
                        hd_sync_agent_call(e->sync, r->host_id, "DELETE", path, NULL,
                                           on_reconcile_delete, again);
                }
        }
out:
        reconcile_free(r);
}

void hd_engine_vms_host_synced(const char *host_id, gpointer user_data)
{
        HdEngine *e = user_data;
        g_autoptr(GError) error = NULL;
        Reconcile *r;

        hd_engine_mdev_leftovers_retry(e, host_id, FALSE);
        if (!hd_store_host_has_vms(e->store, host_id, &error)) {
                if (error)
                        hd_engine_log(e, "warning", "host %s: %s", host_id, error->message);
                return;
        }
        r = g_new0(Reconcile, 1);
        r->e = e;
        r->host_id = g_strdup(host_id);
        r->seq = e->vm_op_seq;
        hd_sync_agent_call(e->sync, host_id, "GET", "/v1/vms", NULL, on_agent_vms, r);
}

/* ---- routing ---- */

void hd_api_route_vms(HdEngine *e, HdHttpRequest *req, char **seg, guint n)
{
        const char *method = hd_http_request_get_method(req);
        gboolean get = hd_http_request_is_get(req);
        gboolean post = strcmp(method, "POST") == 0;

        if (n == 1) {
                if (get)
                        return list_vms(e, req);
                if (post)
                        return hd_api_check_query(req, NULL) ? create_vm(e, req) : (void)0;
                return hd_api_bad_method(req, "GET, POST");
        }
        if (!hd_api_check_query(req, NULL))
                return;
        if (n == 2) {
                if (get)
                        return respond_vm(e, req, HD_HTTP_OK, seg[1]);
                if (strcmp(method, "PATCH") == 0)
                        return edit_vm(e, req, seg[1]);
                if (strcmp(method, "DELETE") == 0)
                        return delete_vm(e, req, seg[1]);
                return hd_api_bad_method(req, "GET, PATCH, DELETE");
        }
        if (n == 3 && strcmp(seg[2], "devices") == 0) {
                if (!post)
                        return hd_api_bad_method(req, "POST");
                return add_devices(e, req, seg[1]);
        }
        if (n == 3 && (strcmp(seg[2], "start") == 0 || strcmp(seg[2], "stop") == 0 ||
                       strcmp(seg[2], "destroy") == 0)) {
                if (!post)
                        return hd_api_bad_method(req, "POST");
                return vm_action(e, req, seg[1], seg[2]);
        }
        if (n == 3 && strcmp(seg[2], "mdevs") == 0) {
                if (!post)
                        return hd_api_bad_method(req, "POST");
                return add_mdev(e, req, seg[1]);
        }
        if (n == 4 && strcmp(seg[2], "mdevs") == 0) {
                if (strcmp(method, "DELETE") != 0)
                        return hd_api_bad_method(req, "DELETE");
                return remove_mdev(e, req, seg[1], seg[3]);
        }
        if (n == 3 && entry_kind(seg[2])) {
                if (!post)
                        return hd_api_bad_method(req, "POST");
                return add_entry(e, req, entry_kind(seg[2]), seg[1]);
        }
        if (n == 4 && entry_kind(seg[2])) {
                if (strcmp(method, "DELETE") != 0)
                        return hd_api_bad_method(req, "DELETE");
                return remove_entry(e, req, entry_kind(seg[2]), seg[1], seg[3]);
        }
        if (n == 4 && strcmp(seg[2], "devices") == 0) {
                if (strcmp(method, "DELETE") != 0)
                        return hd_api_bad_method(req, "DELETE");
                return remove_device(e, req, seg[1], seg[3]);
        }
        hd_http_respond_error(req, HD_HTTP_NOT_FOUND, "not-found", "no such endpoint %s",
                              hd_http_request_get_path(req));
}
