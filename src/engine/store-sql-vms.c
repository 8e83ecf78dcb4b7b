/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The store's VMs and their host devices (store.h, "VMs"; schema: migration 2 in
 * store-sql.c).
 */
#include "config.h"

#include <json-glib/json-glib.h>
#include <string.h>

#include "store-sql-private.h"

/* Names of the VMs selected by @sql with the host id bound to ?1, sorted. */
static GPtrArray *vm_names(HdStore *s, const char *sql, const char *host_id, GError **error)
{
        g_autoptr(Stmt) st = sq_prepare(s, sql, error);

        if (!st)
                return NULL;
        sq_bind_text(st, 1, host_id);
        return sq_texts(s, st, "vms", error);
}

GPtrArray *hd_store_host_users(HdStore *s, const char *id, GError **error)
{
        return vm_names(s,
                        /* pinned by a host device or a mediated device (V1) */
                        "SELECT name FROM vms WHERE host_id = ? ORDER BY name", id, error);
}

GPtrArray *hd_store_host_running_vms(HdStore *s, const char *id, GError **error)
{
        return vm_names(s,
                        "SELECT name FROM vms WHERE host_id = ? AND state <> 'down' ORDER BY name",
                        id, error);
}

/* ---- VMs ---- */

static const char *const vm_state_names[] = {"down", "starting", "running", "stopping"};

const char *hd_vm_state_to_string(HdVmState s)
{
        return (guint)s < G_N_ELEMENTS(vm_state_names) ? vm_state_names[s] : "down";
}

gboolean hd_vm_state_from_string(const char *s, HdVmState *out)
{
        for (guint i = 0; s && i < G_N_ELEMENTS(vm_state_names); i++)
                if (strcmp(s, vm_state_names[i]) == 0) {
                        *out = (HdVmState)i;
                        return TRUE;
                }
        return FALSE;
}

static void vm_device_free(HdVmDevice *d)
{
        g_free(d->address);
        g_free(d->vendor_id);
        g_free(d->device_id);
        g_free(d);
}

void hd_vm_free(HdVm *vm)
{
        if (!vm)
                return;
        g_free(vm->id);
        g_free(vm->name);
        g_free(vm->host_id);
        g_free(vm->host_name);
        g_free(vm->hardware_changed);
        g_free(vm->last_error);
        g_free(vm->created_at);
        g_free(vm->updated_at);
        if (vm->devices)
                g_ptr_array_unref(vm->devices);
        g_free(vm->mdev_placement);
        if (vm->mdevs)
                g_ptr_array_unref(vm->mdevs);
        if (vm->usb)
                g_ptr_array_unref(vm->usb);
        if (vm->scsi)
                g_ptr_array_unref(vm->scsi);
        if (vm->vhost)
                g_ptr_array_unref(vm->vhost);
        g_free(vm);
}

void hd_vm_change_free(HdVmChange *c)
{
        if (!c)
                return;
        g_free(c->id);
        g_free(c->name);
        g_free(c);
}

static gboolean refused(GError **error, const char *format, ...) G_GNUC_PRINTF(2, 3);

static gboolean refused(GError **error, const char *format, ...)
{
        g_autofree char *message = NULL;
        va_list ap;

        va_start(ap, format);
        message = g_strdup_vprintf(format, ap);
        va_end(ap);
        g_set_error_literal(error, HD_STORE_ERROR, HD_STORE_ERROR_REFUSED, message);
        return FALSE;
}

#define VM_COLUMNS                                                                                 \
        "v.id, v.name, v.memory_mib, v.vcpus, v.host_id, h.name, v.state, v.hardware_changed, "    \
        "v.last_error, v.created_at, v.updated_at, v.mdev_placement"
#define VM_FROM " FROM vms v LEFT JOIN hosts h ON h.id = v.host_id"

/* The VM's rows with "present": the host lists the address with the same ids and group. */
static GPtrArray *vm_devices(HdStore *s, const char *vm_id, GError **error)
{
        g_autoptr(Stmt) st = sq_prepare(
            s,
            "SELECT d.address, d.iommu_group, d.requested, d.vendor_id, d.device_id, "
            "CASE WHEN x.address IS NOT NULL AND COALESCE(x.vendor_id, '') = "
            "COALESCE(d.vendor_id, '') AND COALESCE(x.device_id, '') = COALESCE(d.device_id, '') "
            "AND x.iommu_group = d.iommu_group THEN 1 ELSE 0 END "
            "FROM vm_devices d LEFT JOIN devices x ON x.host_id = d.host_id AND "
            "x.address = d.address WHERE d.vm_id = ? ORDER BY d.address",
            error);
        g_autoptr(GPtrArray) out = g_ptr_array_new_with_free_func((GDestroyNotify)vm_device_free);
        int rc;

        if (!st)
                return NULL;
        sq_bind_text(st, 1, vm_id);
        while ((rc = hd_db_step(st)) == HD_DB_ROW) {
                HdVmDevice *d = g_new0(HdVmDevice, 1);
                d->address = sq_col_text(st, 0);
                d->iommu_group = hd_db_column_int64(st, 1);
                d->requested = hd_db_column_int(st, 2) != 0;
                d->vendor_id = sq_col_text(st, 3);
                d->device_id = sq_col_text(st, 4);
                d->present = hd_db_column_int(st, 5) != 0;
                g_ptr_array_add(out, d);
        }
        if (rc != HD_DB_DONE) {
                sq_db_fail(s, error, "vm_devices");
                return NULL;
        }
        return g_steal_pointer(&out);
}

static HdVm *vm_from_row(HdStore *s, HdDbStmt *st, GError **error)
{
        g_autoptr(HdVm) vm = g_new0(HdVm, 1);
        g_autofree char *state = NULL;

        vm->id = sq_col_text(st, 0);
        vm->name = sq_col_text(st, 1);
        vm->memory_mib = hd_db_column_int64(st, 2);
        vm->vcpus = (guint)hd_db_column_int(st, 3);
        vm->host_id = sq_col_text(st, 4);
        vm->host_name = sq_col_text(st, 5);
        state = sq_col_text(st, 6);
        if (!hd_vm_state_from_string(state, &vm->state))
                vm->state = HD_VM_DOWN;
        vm->hardware_changed = sq_col_text(st, 7);
        vm->last_error = sq_col_text(st, 8);
        vm->created_at = sq_col_text(st, 9);
        vm->updated_at = sq_col_text(st, 10);
        vm->mdev_placement = sq_col_text(st, 11);
        vm->devices = vm_devices(s, vm->id, error);
        vm->mdevs = vm->devices ? sq_vm_mdevs(s, vm->id, error) : NULL;
        vm->usb = vm->mdevs ? sq_vm_usb(s, vm->id, error) : NULL;
        vm->scsi = vm->usb ? sq_vm_scsi(s, vm->id, error) : NULL;
        vm->vhost = vm->scsi ? sq_vm_vhost(s, vm->id, error) : NULL;
        return vm->vhost ? g_steal_pointer(&vm) : NULL;
}

HdVm *hd_store_vm_get(HdStore *s, const char *id, GError **error)
{
        g_autoptr(Stmt) st =
            sq_row(s, "SELECT " VM_COLUMNS VM_FROM " WHERE v.id = ?", id, "vm", "vms", error);

        return st ? vm_from_row(s, st, error) : NULL;
}

typedef struct {
        const HdVmFilter *f;
        const char *pattern;
} VmsQuery;

static void vms_bind(HdDbStmt *st, gconstpointer data)
{
        const VmsQuery *q = data;

        sq_bind_named_text(st, ":host", q->f->host_id);
        sq_bind_named_text(st, ":state", q->f->state);
        sq_bind_named_text(st, ":name", q->pattern);
}

GPtrArray *hd_store_vms_list(HdStore *s, const HdVmFilter *f, guint *total, GError **error)
{
        g_autoptr(GString) where = g_string_new(" WHERE 1 = 1");
        g_autoptr(GPtrArray) vms = g_ptr_array_new_with_free_func((GDestroyNotify)hd_vm_free);
        g_autofree char *pattern = f->name_prefix ? sq_like_prefix(f->name_prefix) : NULL;
        const VmsQuery q = {f, pattern};
        g_autoptr(Stmt) list = NULL;
        int rc;

        if (f->host_id)
                g_string_append(where, " AND v.host_id = :host");
        if (f->state)
                g_string_append(where, " AND v.state = :state");
        if (pattern)
                g_string_append(where, " AND v.name LIKE :name ESCAPE '\\'");
        list = sq_page(s, VM_COLUMNS, VM_FROM, where->str, "v.name", f->limit, f->offset, vms_bind,
                       &q, "vms", total, error);
        if (!list)
                return NULL;
        while ((rc = hd_db_step(list)) == HD_DB_ROW) {
                HdVm *vm = vm_from_row(s, list, error);
                if (!vm)
                        return NULL;
                g_ptr_array_add(vms, vm);
        }
        if (rc != HD_DB_DONE) {
                sq_db_fail(s, error, "vms");
                return NULL;
        }
        return g_steal_pointer(&vms);
}

static gboolean name_taken(GError **error, GError *local, const char *name)
{
        if (local && local->code == HD_STORE_ERROR_EXISTS)
                g_set_error(error, HD_STORE_ERROR, HD_STORE_ERROR_EXISTS,
                            "a VM named \"%s\" exists already; pick another name", name);
        else if (local)
                g_propagate_error(error, g_error_copy(local));
        return FALSE;
}

gboolean hd_store_vm_add(HdStore *s, const char *name, gint64 memory_mib, guint vcpus,
                         char **id_out, GError **error)
{
        g_autoptr(Stmt) st = NULL;
        g_autofree char *id = g_uuid_string_random();
        g_autofree char *now = hd_store_now();
        g_autoptr(GError) local = NULL;
        gboolean ok;

        st = sq_begin_prepare(s,
                              "INSERT INTO vms (id, name, memory_mib, vcpus, state, created_at, "
                              "updated_at) VALUES (?, ?, ?, ?, 'down', ?, ?)",
                              error);
        if (!st)
                return FALSE;
        sq_bind_text(st, 1, id);
        sq_bind_text(st, 2, name);
        hd_db_bind_int64(st, 3, memory_mib);
        hd_db_bind_int64(st, 4, vcpus);
        sq_bind_text(st, 5, now);
        sq_bind_text(st, 6, now);
        ok = sq_step_done(s, st, NULL, &local);
        if (!sq_end(s, ok, ok ? error : NULL))
                return name_taken(error, local, name);
        *id_out = g_steal_pointer(&id);
        return TRUE;
}

/* Inside a transaction: the VM's name and state (NOT_FOUND when there is none). */
static gboolean vm_lock(HdStore *s, const char *id, char **name, HdVmState *state, char **host_id,
                        GError **error)
{
        g_autoptr(Stmt) st =
            sq_row(s, "SELECT name, state, host_id FROM vms WHERE id = ?", id, "vm", "vms", error);
        g_autofree char *st_name = NULL;

        if (!st)
                return FALSE;
        *name = sq_col_text(st, 0);
        st_name = sq_col_text(st, 1);
        if (!hd_vm_state_from_string(st_name, state))
                *state = HD_VM_DOWN;
        if (host_id)
                *host_id = sq_col_text(st, 2);
        return TRUE;
}

char *hd_store_vm_etag(const char *id, const char *updated_at)
{
        g_autofree char *text = g_strconcat(id, "\n", updated_at ? updated_at : "", NULL);
        g_autofree char *sum = g_compute_checksum_for_string(G_CHECKSUM_SHA256, text, -1);

        return g_strdup_printf("\"vm-%.32s\"", sum);
}

/* Whether the If-Match list @header holds @etag: strong comparison (RFC 9110 13.1.1: a weak
 * W/ tag never matches), or "*". */
static gboolean if_match_holds(const char *header, const char *etag)
{
        g_auto(GStrv) tags = g_strsplit(header, ",", -1);

        for (char **t = tags; *t; t++) {
                const char *tag = g_strstrip(*t);
                if (strcmp(tag, "*") == 0 || strcmp(tag, etag) == 0)
                        return TRUE;
        }
        return FALSE;
}

/* Inside a transaction: CHANGED unless the VM's current ETag is in @if_match (NOT_FOUND
 * without the VM). */
static gboolean vm_if_match(HdStore *s, const char *id, const char *if_match, GError **error)
{
        g_autoptr(Stmt) st = sq_prepare(s, "SELECT name, updated_at FROM vms WHERE id = ?", error);
        g_autofree char *name = NULL;
        g_autofree char *updated_at = NULL;
        g_autofree char *etag = NULL;
        int rc;

        if (!st)
                return FALSE;
        sq_bind_text(st, 1, id);
        rc = hd_db_step(st);
        if (rc == HD_DB_DONE)
                return sq_not_found(error, "vm", id);
        if (rc != HD_DB_ROW)
                return sq_db_fail(s, error, "vms");
        name = sq_col_text(st, 0);
        updated_at = sq_col_text(st, 1);
        etag = hd_store_vm_etag(id, updated_at);
        if (!if_match_holds(if_match, etag)) {
                g_set_error(error, HD_STORE_ERROR, HD_STORE_ERROR_CHANGED,
                            "VM %s was changed since it was read (If-Match does not hold its "
                            "ETag %s); read it again (GET /v1/vms/%s) and edit that",
                            name, etag, id);
                return FALSE;
        }
        return TRUE;
}

gboolean hd_store_vm_edit(HdStore *s, const char *id, const char *name, gint64 memory_mib,
                          guint vcpus, GError **error)
{
        return hd_store_vm_edit_if(s, id, NULL, NULL, name, memory_mib, vcpus, error);
}

gboolean hd_store_vm_edit_if(HdStore *s, const char *id, const char *if_match,
                             const char *mdev_placement, const char *name, gint64 memory_mib,
                             guint vcpus, GError **error)
{
        g_autoptr(Stmt) st = NULL;
        g_autofree char *now = hd_store_now();
        g_autoptr(GError) local = NULL;
        int changes = 0;
        gboolean ok;

        if (!sq_begin(s, error))
                return FALSE;
        if (if_match && !vm_if_match(s, id, if_match, error))
                return sq_end(s, FALSE, NULL);
        st = sq_prepare(s,
                        "UPDATE vms SET name = COALESCE(?1, name), "
                        "memory_mib = CASE WHEN ?2 > 0 THEN ?2 ELSE memory_mib END, "
                        "vcpus = CASE WHEN ?3 > 0 THEN ?3 ELSE vcpus END, updated_at = ?4, "
                        "mdev_placement = COALESCE(?6, mdev_placement) WHERE id = ?5",
                        error);
        if (!st)
                return sq_end(s, FALSE, NULL);
        sq_bind_text(st, 1, name);
        hd_db_bind_int64(st, 2, memory_mib);
        hd_db_bind_int64(st, 3, vcpus);
        sq_bind_text(st, 4, now);
        sq_bind_text(st, 5, id);
        sq_bind_text(st, 6, mdev_placement);
        ok = sq_step_done(s, st, &changes, &local);
        if (ok && changes == 0) {
                sq_end(s, FALSE, NULL);
                return sq_not_found(error, "vm", id);
        }
        if (!sq_end(s, ok, ok ? error : NULL))
                return name_taken(error, local, name);
        return TRUE;
}

gboolean hd_store_vm_remove(HdStore *s, const char *id, GError **error)
{
        g_autoptr(Stmt) st = NULL;
        g_autofree char *name = NULL;
        HdVmState state;

        if (!sq_begin(s, error))
                return FALSE;
        if (!vm_lock(s, id, &name, &state, NULL, error))
                return sq_end(s, FALSE, NULL);
        if (state != HD_VM_DOWN) {
                sq_end(s, FALSE, NULL);
                return refused(error,
                               "VM %s is %s; stop it (POST /v1/vms/%s/stop) before deleting it",
                               name, hd_vm_state_to_string(state), id);
        }
        /* mdevs still on the host (their removal failed) outlive the VM as leftovers */
        if (!sq_mdev_leftovers_keep(s, id, NULL, error))
                return sq_end(s, FALSE, NULL);
        st = sq_prepare(s, "DELETE FROM vms WHERE id = ?", error);
        if (!st)
                return sq_end(s, FALSE, NULL);
        sq_bind_text(st, 1, id);
        return sq_end(s, sq_step_done(s, st, NULL, error), error);
}

/* ---- host devices: pinning and placeholders ---- */

/* What the agent's device JSON says of a device: bridge (or host bridge), and why it is not
 * assignable (NULL: it is). */
typedef struct {
        gboolean bridge;
        char *not_assignable;
} DeviceFacts;

static void device_facts(const char *data, DeviceFacts *f)
{
        g_autoptr(JsonParser) p = json_parser_new_immutable();
        JsonObject *o = NULL;
        JsonNode *n;

        memset(f, 0, sizeof(*f));
        if (data && json_parser_load_from_data(p, data, -1, NULL) && json_parser_get_root(p) &&
            JSON_NODE_HOLDS_OBJECT(json_parser_get_root(p)))
                o = json_node_get_object(json_parser_get_root(p));
        if (!o) {
                f->not_assignable = g_strdup("the agent's description of it cannot be read");
                return;
        }
        n = json_object_get_member(o, "is_bridge");
        f->bridge = n && JSON_NODE_HOLDS_VALUE(n) &&
                    json_node_get_value_type(n) == G_TYPE_BOOLEAN && json_node_get_boolean(n);
        n = json_object_get_member(o, "assignable");
        if (n && JSON_NODE_HOLDS_VALUE(n) && json_node_get_value_type(n) == G_TYPE_BOOLEAN &&
            json_node_get_boolean(n))
                return;
        n = json_object_get_member(o, "assignable_reason");
        f->not_assignable =
            g_strdup(n && JSON_NODE_HOLDS_VALUE(n) && json_node_get_value_type(n) == G_TYPE_STRING
                         ? json_node_get_string(n)
                         : "the agent says it is not assignable");
        if (strcmp(f->not_assignable, "host bridge") == 0 ||
            strcmp(f->not_assignable, "bridge") == 0)
                f->bridge = TRUE;
}

static const char *host_name_of(HdStore *s, const char *host_id, char **out)
{
        g_autoptr(Stmt) st = sq_prepare(s, "SELECT name FROM hosts WHERE id = ?", NULL);

        *out = NULL;
        if (st) {
                sq_bind_text(st, 1, host_id);
                if (hd_db_step(st) == HD_DB_ROW)
                        *out = sq_col_text(st, 0);
        }
        return *out ? *out : host_id;
}

const char *sq_host_name_of(HdStore *s, const char *host_id, char **out)
{
        return host_name_of(s, host_id, out);
}

/* An audit row "vm.hardware_changed" (actor engine, result failed) inside the caller's
 * transaction (the id as hd_store_event_add() chooses it). */
static gboolean hw_event(HdStore *s, const char *vm_id, const char *reason, GError **error)
{
        g_autoptr(Stmt) st = sq_prepare(
            s,
            "INSERT INTO events (id, at, actor, action, object, result, message) "
            "SELECT COALESCE(MAX(id), 0) + 1, ?1, 'engine', 'vm.hardware_changed', "
            "(SELECT 'vm ' || name || ' (' || id || ')' FROM vms WHERE id = ?2), 'failed', ?3 "
            "FROM events",
            error);
        g_autofree char *now = hd_store_now();
        g_autofree char *message = g_strdup_printf(
            "%s; starting it is refused until the device is re-added or removed", reason);

        if (!st)
                return FALSE;
        sq_bind_text(st, 1, now);
        sq_bind_text(st, 2, vm_id);
        sq_bind_text(st, 3, message);
        return sq_step_done(s, st, NULL, error);
}

/* Recompute the VM's "hardware changed" reason from its rows and the host's devices; with
 * @may_clear FALSE (the inventory) a reason is set or replaced, never cleared. */
static gboolean hw_recompute(HdStore *s, const char *vm_id, gboolean may_clear, GError **error)
{
        g_autoptr(Stmt) st = sq_prepare(
            s,
            "SELECT d.address, d.vendor_id, d.device_id, d.iommu_group, x.address, x.vendor_id, "
            "x.device_id, x.iommu_group, h.name FROM vm_devices d "
            "JOIN hosts h ON h.id = d.host_id "
            "LEFT JOIN devices x ON x.host_id = d.host_id AND x.address = d.address "
            "WHERE d.vm_id = ? ORDER BY d.address",
            error);
        g_autoptr(Stmt) upd = NULL;
        g_autoptr(GString) reason = g_string_new(NULL);
        g_autofree char *now = hd_store_now();
        int changes = 0;
        int rc;

        if (!st)
                return FALSE;
        sq_bind_text(st, 1, vm_id);
        while ((rc = hd_db_step(st)) == HD_DB_ROW) {
                const char *addr = hd_db_column_text(st, 0);
                const char *v = hd_db_column_text(st, 1);
                const char *d = hd_db_column_text(st, 2);
                const char *xv = hd_db_column_text(st, 5);
                const char *xd = hd_db_column_text(st, 6);
                const char *host = hd_db_column_text(st, 8);

                g_autofree char *problem = NULL;

                if (hd_db_column_is_null(st, 4))
                        problem = g_strdup_printf("%s is no longer on host %s", addr, host);
                else if (g_strcmp0(v, xv) != 0 || g_strcmp0(d, xd) != 0)
                        problem =
                            g_strdup_printf("%s is now %s:%s (was %s:%s)", addr, xv ? xv : "?",
                                            xd ? xd : "?", v ? v : "?", d ? d : "?");
                else if (hd_db_column_is_null(st, 7) ||
                         hd_db_column_int64(st, 7) != hd_db_column_int64(st, 3))
                        problem = g_strdup_printf("%s left IOMMU group %" G_GINT64_FORMAT, addr,
                                                  (gint64)hd_db_column_int64(st, 3));
                if (problem)
                        g_string_append_printf(reason, "%s%s", reason->len ? "; " : "", problem);
        }
        if (rc != HD_DB_DONE)
                return sq_db_fail(s, error, "vm_devices");
        if (!reason->len && !may_clear)
                return TRUE;
        upd = sq_prepare(s,
                         reason->len ? "UPDATE vms SET hardware_changed = ?1, updated_at = ?2 "
                                       "WHERE id = ?3 AND (hardware_changed IS NULL OR "
                                       "hardware_changed <> ?1)"
                                     : "UPDATE vms SET hardware_changed = ?1, updated_at = ?2 "
                                       "WHERE id = ?3 AND hardware_changed IS NOT NULL",
                         error);
        if (!upd)
                return FALSE;
        sq_bind_text(upd, 1, reason->len ? reason->str : NULL);
        sq_bind_text(upd, 2, now);
        sq_bind_text(upd, 3, vm_id);
        if (!sq_step_done(s, upd, &changes, error))
                return FALSE;
        /* the inventory marked it: an audit row in the same transaction (the sync's own event
         * for the diff, written right after, wakes the events long polls) */
        return may_clear || changes == 0 || hw_event(s, vm_id, reason->str, error);
}

gboolean sq_vms_inventory_changed(HdStore *s, const char *host_id, GError **error)
{
        g_autoptr(GPtrArray) ids =
            vm_names(s, "SELECT DISTINCT vm_id FROM vm_devices WHERE host_id = ?", host_id, error);

        if (!ids)
                return FALSE;
        for (guint i = 0; i < ids->len; i++)
                if (!hw_recompute(s, ids->pdata[i], FALSE, error))
                        return FALSE;
        return TRUE;
}

/* V2 and V1 after a change of the VM's rows: groups without a requested row go, the pin
 * follows the rows, "hardware changed" is recomputed. */
static gboolean vm_rows_settle(HdStore *s, const char *vm_id, const char *host_id, GError **error)
{
        g_autoptr(Stmt) del =
            sq_prepare(s,
                       "DELETE FROM vm_devices WHERE vm_id = ?1 AND iommu_group NOT IN "
                       "(SELECT iommu_group FROM vm_devices WHERE vm_id = ?1 AND requested = 1)",
                       error);

        if (!del)
                return FALSE;
        sq_bind_text(del, 1, vm_id);
        if (!sq_step_done(s, del, NULL, error))
                return FALSE;
        return sq_vm_pin(s, vm_id, host_id, error) && hw_recompute(s, vm_id, TRUE, error);
}

gboolean sq_vm_pin(HdStore *s, const char *vm_id, const char *host_id, GError **error)
{
        g_autoptr(Stmt) pin = NULL;
        g_autofree char *now = hd_store_now();

        pin = sq_prepare(s,
                         "UPDATE vms SET host_id = CASE WHEN EXISTS (SELECT 1 FROM vm_devices "
                         "WHERE vm_id = ?1) OR EXISTS (SELECT 1 FROM vm_mdevs WHERE vm_id = ?1) "
                         "OR EXISTS (SELECT 1 FROM vm_usb WHERE vm_id = ?1) "
                         "OR EXISTS (SELECT 1 FROM vm_scsi WHERE vm_id = ?1) "
                         "OR EXISTS (SELECT 1 FROM vm_vhost_scsi WHERE vm_id = ?1) "
                         "THEN ?2 ELSE NULL END, updated_at = ?3 WHERE id = ?1",
                         error);
        if (!pin)
                return FALSE;
        sq_bind_text(pin, 1, vm_id);
        sq_bind_text(pin, 2, host_id);
        sq_bind_text(pin, 3, now);
        return sq_step_done(s, pin, NULL, error);
}

/* Add one requested device with its group's placeholders (inside the transaction). */
static gboolean add_device(HdStore *s, const char *vm_id, const char *vm_name, const char *host_id,
                           const char *host_name, const char *address, GError **error)
{
        g_autoptr(Stmt) dev =
            sq_prepare(s,
                       "SELECT vendor_id, device_id, iommu_group, data FROM devices "
                       "WHERE host_id = ? AND address = ?",
                       error);
        g_autoptr(Stmt) members = NULL;
        g_autoptr(Stmt) put = NULL;
        DeviceFacts facts;
        gint64 group;
        int rc;

        if (!dev)
                return FALSE;
        sq_bind_text(dev, 1, host_id);
        sq_bind_text(dev, 2, address);
        rc = hd_db_step(dev);
        if (rc == HD_DB_DONE)
                return refused(error,
                               "host %s does not list %s (GET /v1/hosts/%s/devices lists its "
                               "devices); pick one of them",
                               host_name, address, host_id);
        if (rc != HD_DB_ROW)
                return sq_db_fail(s, error, "devices");
        device_facts(hd_db_column_text(dev, 3), &facts);
        if (facts.bridge) {
                gboolean host_bridge = g_strcmp0(facts.not_assignable, "host bridge") == 0;
                g_free(facts.not_assignable);
                return refused(error,
                               "%s on host %s is a %s: bridges are never given to a VM (they stay "
                               "with the host); pick an endpoint behind it",
                               address, host_name, host_bridge ? "host bridge" : "bridge");
        }
        if (facts.not_assignable) {
                g_autofree char *why = facts.not_assignable;
                return refused(error, "%s on host %s cannot be given to VM %s: %s", address,
                               host_name, vm_name, why);
        }
        if (hd_db_column_is_null(dev, 2))
                return refused(error,
                               "%s on host %s has no IOMMU group; enable the IOMMU in the host's "
                               "kernel arguments, then reboot it",
                               address, host_name);
        group = hd_db_column_int64(dev, 2);
        put = sq_prepare(s,
                         "INSERT INTO vm_devices (vm_id, host_id, address, iommu_group, requested, "
                         "vendor_id, device_id) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) "
                         "ON CONFLICT (vm_id, address) DO UPDATE SET host_id = excluded.host_id, "
                         "iommu_group = excluded.iommu_group, vendor_id = excluded.vendor_id, "
                         "device_id = excluded.device_id, "
                         "requested = CASE WHEN excluded.requested = 1 THEN 1 "
                         "ELSE vm_devices.requested END",
                         error);
        if (!put)
                return FALSE;
        sq_bind_text(put, 1, vm_id);
        sq_bind_text(put, 2, host_id);
        sq_bind_text(put, 3, address);
        hd_db_bind_int64(put, 4, group);
        hd_db_bind_int64(put, 5, 1);
        sq_bind_text(put, 6, hd_db_column_text(dev, 0));
        sq_bind_text(put, 7, hd_db_column_text(dev, 1));
        if (!sq_step_done(s, put, NULL, error))
                return FALSE;
        /* every other endpoint of the group: a placeholder (V3: never a bridge) */
        members = sq_prepare(s,
                             "SELECT address, vendor_id, device_id, data FROM devices "
                             "WHERE host_id = ? AND iommu_group = ? AND address <> ?",
                             error);
        if (!members)
                return FALSE;
        sq_bind_text(members, 1, host_id);
        hd_db_bind_int64(members, 2, group);
        sq_bind_text(members, 3, address);
        while ((rc = hd_db_step(members)) == HD_DB_ROW) {
                DeviceFacts mf;
                device_facts(hd_db_column_text(members, 3), &mf);
                g_free(mf.not_assignable);
                if (mf.bridge)
                        continue;
                hd_db_reset(put);
                sq_bind_text(put, 3, hd_db_column_text(members, 0));
                hd_db_bind_int64(put, 5, 0);
                sq_bind_text(put, 6, hd_db_column_text(members, 1));
                sq_bind_text(put, 7, hd_db_column_text(members, 2));
                if (!sq_step_done(s, put, NULL, error))
                        return FALSE;
        }
        if (rc != HD_DB_DONE)
                return sq_db_fail(s, error, "devices");
        return TRUE;
}

/* Refused unless the VM is down (V4). */
gboolean sq_vm_down_for_change(HdStore *s, const char *vm_id, char **name, char **host_id,
                               GError **error)
{
        HdVmState state;

        if (!vm_lock(s, vm_id, name, &state, host_id, error))
                return FALSE;
        if (state != HD_VM_DOWN)
                return refused(error,
                               "VM %s is %s: its host devices change only while it is down; stop "
                               "it first (POST /v1/vms/%s/stop)",
                               *name, hd_vm_state_to_string(state), vm_id);
        return TRUE;
}

gboolean hd_store_vm_devices_add(HdStore *s, const char *vm_id, const char *host_id,
                                 const char *const *addresses, GError **error)
{
        g_autofree char *name = NULL;
        g_autofree char *pinned = NULL;
        g_autofree char *host_name = NULL;
        g_autoptr(Stmt) gone = NULL;

        if (!sq_begin(s, error))
                return FALSE;
        if (!sq_vm_down_for_change(s, vm_id, &name, &pinned, error) ||
            !sq_host_exists(s, host_id, error))
                return sq_end(s, FALSE, NULL);
        host_name_of(s, host_id, &host_name);
        if (pinned && strcmp(pinned, host_id) != 0) {
                g_autofree char *other = NULL;
                host_name_of(s, pinned, &other);
                sq_end(s, FALSE, NULL);
                return refused(error,
                               "VM %s is pinned to host %s by its devices; remove them "
                               "(DELETE /v1/vms/%s/devices/ADDRESS) before adding devices of "
                               "host %s",
                               name, other ? other : pinned, vm_id, host_name);
        }
        for (const char *const *a = addresses; *a; a++)
                if (!add_device(s, vm_id, name, host_id, host_name, *a, error))
                        return sq_end(s, FALSE, NULL);
        /* placeholders the host no longer lists go with a re-add (the group is read again) */
        gone = sq_prepare(s,
                          "DELETE FROM vm_devices WHERE vm_id = ?1 AND requested = 0 AND NOT "
                          "EXISTS (SELECT 1 FROM devices x WHERE x.host_id = vm_devices.host_id "
                          "AND x.address = vm_devices.address)",
                          error);
        if (!gone)
                return sq_end(s, FALSE, NULL);
        sq_bind_text(gone, 1, vm_id);
        if (!sq_step_done(s, gone, NULL, error) || !vm_rows_settle(s, vm_id, host_id, error))
                return sq_end(s, FALSE, NULL);
        return sq_end(s, TRUE, error);
}

gboolean hd_store_vm_device_remove(HdStore *s, const char *vm_id, const char *address,
                                   GError **error)
{
        g_autofree char *name = NULL;
        g_autofree char *host_id = NULL;
        g_autoptr(Stmt) row = NULL;
        g_autoptr(Stmt) change = NULL;
        gboolean requested, listed;
        gint64 group;
        int rc;

        if (!sq_begin(s, error))
                return FALSE;
        if (!sq_vm_down_for_change(s, vm_id, &name, &host_id, error))
                return sq_end(s, FALSE, NULL);
        row = sq_prepare(s,
                         "SELECT d.requested, d.iommu_group, x.address FROM vm_devices d "
                         "LEFT JOIN devices x ON x.host_id = d.host_id AND x.address = d.address "
                         "WHERE d.vm_id = ? AND d.address = ?",
                         error);
        if (!row)
                return sq_end(s, FALSE, NULL);
        sq_bind_text(row, 1, vm_id);
        sq_bind_text(row, 2, address);
        rc = hd_db_step(row);
        if (rc != HD_DB_ROW) {
                sq_end(s, FALSE, NULL);
                if (rc != HD_DB_DONE)
                        return sq_db_fail(s, error, "vm_devices");
                g_set_error(error, HD_STORE_ERROR, HD_STORE_ERROR_NOT_FOUND,
                            "VM %s has no host device %s (GET /v1/vms/%s lists its devices)", name,
                            address, vm_id);
                return FALSE;
        }
        requested = hd_db_column_int(row, 0) != 0;
        group = hd_db_column_int64(row, 1);
        listed = !hd_db_column_is_null(row, 2);
        if (!requested && listed) {
                sq_end(s, FALSE, NULL);
                return refused(
                    error,
                    "%s is a placeholder of VM %s: it shares IOMMU group %" G_GINT64_FORMAT
                    " with a device the VM requests, and the whole group goes to the "
                    "VM; remove the requested device(s) of that group instead",
                    address, name, group);
        }
        /* a requested device becomes a placeholder while it is still in the group; a device the
         * host no longer lists simply goes; vm_rows_settle() drops groups with no requested
         * member left */
        change = sq_prepare(s,
                            listed ? "UPDATE vm_devices SET requested = 0 WHERE vm_id = ? AND "
                                     "address = ?"
                                   : "DELETE FROM vm_devices WHERE vm_id = ? AND address = ?",
                            error);
        if (!change)
                return sq_end(s, FALSE, NULL);
        sq_bind_text(change, 1, vm_id);
        sq_bind_text(change, 2, address);
        if (!sq_step_done(s, change, NULL, error) || !vm_rows_settle(s, vm_id, host_id, error))
                return sq_end(s, FALSE, NULL);
        return sq_end(s, TRUE, error);
}

/* ---- start, states, reconcile ---- */

/* The start's checks on the host (inside the transaction): up, and passthrough enabled when
 * @iommu: the VM has PCI host devices, which need the host's IOMMU. Nothing else does: USB
 * devices and LUNs (QEMU opens their nodes, the controller stays the host's), vhost-scsi
 * targets (vhost-scsi-pci is QEMU's device) and mdevs (the mdev core gives each an emulated
 * group that vfio's type1 backend takes; tests/vm's boot without an IOMMU opens mtty, mbochs
 * and mdpy mdevs in nested QEMUs). */
static gboolean host_ready(HdStore *s, const char *host_id, const char *vm_name, gboolean iommu,
                           GError **error)
{
        g_autoptr(Stmt) st = sq_prepare(
            s,
            "SELECT name, status, passthrough, passthrough_reason, last_error FROM hosts "
            "WHERE id = ?",
            error);
        g_autofree char *status = NULL;
        const char *name, *reason, *last;
        HdHostStatus hs;

        if (!st)
                return FALSE;
        sq_bind_text(st, 1, host_id);
        if (hd_db_step(st) != HD_DB_ROW)
                return sq_db_fail(s, error, "hosts");
        name = hd_db_column_text(st, 0);
        status = sq_col_text(st, 1);
        reason = hd_db_column_text(st, 3);
        last = hd_db_column_text(st, 4);
        if (!hd_host_status_from_string(status, &hs))
                hs = HD_HOST_CONNECTING;
        switch (hs) {
        case HD_HOST_UP:
                break;
        case HD_HOST_MAINTENANCE:
                return refused(error,
                               "cannot start VM %s: its host %s is in maintenance; activate the "
                               "host first (POST /v1/hosts/%s/activate)",
                               vm_name, name, host_id);
        case HD_HOST_REBOOTING:
                return refused(error,
                               "cannot start VM %s: its host %s is rebooting; start it once the "
                               "host is activated and up",
                               vm_name, name);
        case HD_HOST_NON_RESPONSIVE:
                return refused(error,
                               "cannot start VM %s: its host %s does not answer (%s); start it "
                               "once the host is up again",
                               vm_name, name, last ? last : "no answer");
        case HD_HOST_CONNECTING:
                return refused(error,
                               "cannot start VM %s: the engine is still connecting to its host "
                               "%s; start it once the host is up",
                               vm_name, name);
        }
        if (iommu && (hd_db_column_is_null(st, 2) || hd_db_column_int(st, 2) != 1))
                return refused(error,
                               "cannot start VM %s: host %s has device passthrough disabled (%s); "
                               "enable the IOMMU in the host's kernel arguments (maintenance, "
                               "kernel-args, reboot, activate)",
                               vm_name, name, reason ? reason : "unknown");
        return TRUE;
}

/* Whether the VM has a PCI host device (host_ready's @iommu). */
static gboolean vm_needs_iommu(HdStore *s, const char *vm_id, gboolean *out, GError **error)
{
        g_autoptr(Stmt) st =
            sq_prepare(s, "SELECT EXISTS (SELECT 1 FROM vm_devices WHERE vm_id = ?1)", error);

        if (!st)
                return FALSE;
        sq_bind_text(st, 1, vm_id);
        if (hd_db_step(st) != HD_DB_ROW)
                return sq_db_fail(s, error, "vm_devices");
        *out = hd_db_column_int(st, 0) != 0;
        return TRUE;
}

gboolean hd_store_vm_start_reserve(HdStore *s, const char *vm_id, GError **error)
{
        gboolean iommu = TRUE;
        g_autofree char *name = NULL;
        g_autofree char *host_id = NULL;
        g_autofree char *host_name = NULL;
        g_autofree char *changed = NULL;
        g_autoptr(Stmt) hw = NULL;
        g_autoptr(Stmt) conflict = NULL;
        g_autoptr(Stmt) set = NULL;
        g_autoptr(GPtrArray) devices = NULL;
        g_autofree char *now = hd_store_now();
        HdVmState state;
        int rc;

        if (!sq_begin(s, error))
                return FALSE;
        if (!vm_lock(s, vm_id, &name, &state, &host_id, error))
                return sq_end(s, FALSE, NULL);
        if (state != HD_VM_DOWN) {
                sq_end(s, FALSE, NULL);
                return refused(error, "VM %s is %s already", name, hd_vm_state_to_string(state));
        }
        if (!host_id) {
                sq_end(s, FALSE, NULL);
                return refused(error,
                               "VM %s has no host devices, so no host to run on; add host "
                               "devices first (POST /v1/vms/%s/devices)",
                               name, vm_id);
        }
        host_name_of(s, host_id, &host_name);
        if (!vm_needs_iommu(s, vm_id, &iommu, error) ||
            !host_ready(s, host_id, name, iommu, error))
                return sq_end(s, FALSE, NULL);
        /* hardware changed: the mark, and the rows against the inventory as it is now */
        hw = sq_prepare(s, "SELECT hardware_changed FROM vms WHERE id = ?", error);
        if (!hw)
                return sq_end(s, FALSE, NULL);
        sq_bind_text(hw, 1, vm_id);
        if (hd_db_step(hw) == HD_DB_ROW)
                changed = sq_col_text(hw, 0);
        devices = vm_devices(s, vm_id, error);
        if (!devices)
                return sq_end(s, FALSE, NULL);
        for (guint i = 0; i < devices->len && !changed; i++) {
                const HdVmDevice *d = devices->pdata[i];
                if (!d->present)
                        changed = g_strdup_printf("%s is missing or changed on host %s", d->address,
                                                  host_name);
        }
        if (changed) {
                sq_end(s, FALSE, NULL);
                return refused(error,
                               "cannot start VM %s: hardware changed on host %s: %s; re-add the "
                               "device (POST /v1/vms/%s/devices) or remove it",
                               name, host_name, changed, vm_id);
        }
        /* V5: no other VM that is not down holds a row of these groups on this host */
        conflict =
            sq_prepare(s,
                       "SELECT o.address, v.name, v.state, o.iommu_group FROM vm_devices o "
                       "JOIN vms v ON v.id = o.vm_id WHERE o.host_id = ?2 AND o.vm_id <> ?1 AND "
                       "v.state <> 'down' AND o.iommu_group IN "
                       "(SELECT iommu_group FROM vm_devices WHERE vm_id = ?1) "
                       "ORDER BY o.requested DESC, o.address LIMIT 1",
                       error);
        if (!conflict)
                return sq_end(s, FALSE, NULL);
        sq_bind_text(conflict, 1, vm_id);
        sq_bind_text(conflict, 2, host_id);
        rc = hd_db_step(conflict);
        if (rc == HD_DB_ROW) {
                g_autofree char *addr = sq_col_text(conflict, 0);
                g_autofree char *other = sq_col_text(conflict, 1);
                g_autofree char *ostate = sq_col_text(conflict, 2);
                gint64 group = hd_db_column_int64(conflict, 3);
                sq_end(s, FALSE, NULL);
                return refused(error,
                               "cannot start VM %s: %s (IOMMU group %" G_GINT64_FORMAT
                               ") is used by VM %s on host %s (%s); stop %s first",
                               name, addr, group, other, host_name, ostate, other);
        }
        if (rc != HD_DB_DONE)
                return sq_end(s, sq_db_fail(s, error, "vm_devices"), NULL);
        set = sq_prepare(s,
                         "UPDATE vms SET state = 'starting', last_error = NULL, updated_at = ? "
                         "WHERE id = ?",
                         error);
        if (!set)
                return sq_end(s, FALSE, NULL);
        sq_bind_text(set, 1, now);
        sq_bind_text(set, 2, vm_id);
        if (!sq_step_done(s, set, NULL, error))
                return sq_end(s, FALSE, NULL);
        return sq_end(s, TRUE, error);
}

gboolean hd_store_vm_set_state(HdStore *s, const char *vm_id, guint from_mask, HdVmState to,
                               const char *last_error, GError **error)
{
        g_autofree char *name = NULL;
        g_autofree char *now = hd_store_now();
        g_autoptr(Stmt) st = NULL;
        HdVmState state;

        if (!sq_begin(s, error))
                return FALSE;
        if (!vm_lock(s, vm_id, &name, &state, NULL, error))
                return sq_end(s, FALSE, NULL);
        if (!(from_mask & HD_VM_MASK(state))) {
                sq_end(s, FALSE, NULL);
                return refused(error, "VM %s is %s; it cannot become %s from there", name,
                               hd_vm_state_to_string(state), hd_vm_state_to_string(to));
        }
        st = sq_prepare(s, "UPDATE vms SET state = ?, last_error = ?, updated_at = ? WHERE id = ?",
                        error);
        if (!st)
                return sq_end(s, FALSE, NULL);
        sq_bind_text(st, 1, hd_vm_state_to_string(to));
        sq_bind_text(st, 2, last_error);
        sq_bind_text(st, 3, now);
        sq_bind_text(st, 4, vm_id);
        return sq_end(s, sq_step_done(s, st, NULL, error), error);
}

gboolean hd_store_host_has_vms(HdStore *s, const char *host_id, GError **error)
{
        g_autoptr(Stmt) st = sq_prepare(s, "SELECT 1 FROM vms WHERE host_id = ? LIMIT 1", error);
        int rc;

        if (!st)
                return FALSE;
        sq_bind_text(st, 1, host_id);
        rc = hd_db_step(st);
        if (rc != HD_DB_ROW && rc != HD_DB_DONE)
                return sq_db_fail(s, error, "vms");
        return rc == HD_DB_ROW;
}

gboolean hd_store_vm_reconcile(HdStore *s, const char *host_id, GHashTable *agent, GHashTable *skip,
                               GPtrArray **changes, GError **error)
{
        g_autoptr(GPtrArray) out =
            g_ptr_array_new_with_free_func((GDestroyNotify)hd_vm_change_free);
        g_autoptr(Stmt) sel = NULL;
        g_autoptr(Stmt) upd = NULL;
        g_autofree char *now = hd_store_now();
        int rc;

        if (!sq_begin(s, error))
                return FALSE;
        sel =
            sq_prepare(s, "SELECT id, name, state FROM vms WHERE host_id = ? ORDER BY name", error);
        upd = sel ? sq_prepare(s,
                               "UPDATE vms SET state = ?, last_error = COALESCE(?, last_error), "
                               "updated_at = ? WHERE id = ?",
                               error)
                  : NULL;
        if (!upd)
                return sq_end(s, FALSE, NULL);
        sq_bind_text(sel, 1, host_id);
        while ((rc = hd_db_step(sel)) == HD_DB_ROW) {
                const char *id = hd_db_column_text(sel, 0);
                HdVmState from, to;
                const char *why = NULL;

                if (!hd_vm_state_from_string(hd_db_column_text(sel, 2), &from))
                        from = HD_VM_DOWN;
                if (skip && g_hash_table_contains(skip, id))
                        continue;
                to = GPOINTER_TO_INT(g_hash_table_lookup(agent, id)) == 2 ? HD_VM_RUNNING
                                                                          : HD_VM_DOWN;
                if (to == from)
                        continue;
                if (from == HD_VM_RUNNING)
                        why = "the VM stopped outside the engine (its host's agent reports it "
                              "shut off)";
                hd_db_reset(upd);
                sq_bind_text(upd, 1, hd_vm_state_to_string(to));
                sq_bind_text(upd, 2, why);
                sq_bind_text(upd, 3, now);
                sq_bind_text(upd, 4, id);
                if (!sq_step_done(s, upd, NULL, error))
                        return sq_end(s, FALSE, NULL);
                {
                        HdVmChange *c = g_new0(HdVmChange, 1);
                        c->id = g_strdup(id);
                        c->name = sq_col_text(sel, 1);
                        c->from = from;
                        c->to = to;
                        g_ptr_array_add(out, c);
                }
        }
        if (rc != HD_DB_DONE)
                return sq_end(s, sq_db_fail(s, error, "vms"), NULL);
        if (!sq_end(s, TRUE, error))
                return FALSE;
        *changes = g_steal_pointer(&out);
        return TRUE;
}
