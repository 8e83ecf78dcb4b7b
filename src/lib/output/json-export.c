/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "cmdline.h"
#include "json-export.h"
#include "reset.h"
#include "modalias.h"
#include "state.h"
#include "usage.h"

static void add_hex(HdJsonWriter *b, const char *name, int value, int digits)
{
        hd_json_writer_member(b, name);
        if (value < 0) {
                hd_json_writer_null(b);
        } else {
                static const char hex[] = "0123456789abcdef";
                char buf[16];
                unsigned v = (unsigned)value;
                int n = digits;

                /* "%0*x" without printf: at least @digits digits, more if the value needs */
                while (n < 8 && (v >> (4 * n)) != 0)
                        n++;
                buf[n] = '\0';
                for (int i = n - 1; i >= 0; i--, v >>= 4)
                        buf[i] = hex[v & 0xf];
                hd_json_writer_string(b, buf);
        }
}

static void add_string(HdJsonWriter *b, const char *name, const char *value)
{
        hd_json_writer_member(b, name);
        if (value)
                hd_json_writer_string(b, value);
        else
                hd_json_writer_null(b);
}

static void add_int_or_null(HdJsonWriter *b, const char *name, gint64 value)
{
        hd_json_writer_member(b, name);
        if (value < 0)
                hd_json_writer_null(b);
        else
                hd_json_writer_int(b, value);
}

static void add_bool(HdJsonWriter *b, const char *name, gboolean value)
{
        hd_json_writer_member(b, name);
        hd_json_writer_bool(b, value);
}

static void add_string_array(HdJsonWriter *b, const char *name, GPtrArray *values)
{
        hd_json_writer_member(b, name);
        hd_json_writer_begin_array(b);
        for (guint i = 0; values && i < values->len; i++)
                hd_json_writer_string(b, values->pdata[i]);
        hd_json_writer_end_array(b);
}

static void add_link(HdJsonWriter *b, const char *name, const HdLink *link)
{
        hd_json_writer_member(b, name);
        if (!link->speed && !link->width) {
                hd_json_writer_null(b);
                return;
        }
        hd_json_writer_begin_object(b);
        add_string(b, "speed", hd_pcie_speed_to_string(link->speed));
        add_int_or_null(b, "width", link->width ? link->width : -1);
        hd_json_writer_end_object(b);
}

void hd_json_write_device(HdJsonWriter *b, const HdDevice *dev, gboolean detail)
{
        const char *reason = NULL;
        gboolean assignable = hd_device_is_assignable(dev, &reason);

        hd_json_writer_begin_object(b);
        add_string(b, "address", dev->name);
        add_hex(b, "vendor_id", dev->vendor_id, 4);
        add_hex(b, "device_id", dev->device_id, 4);
        add_hex(b, "subsystem_vendor_id", dev->subsystem_vendor_id, 4);
        add_hex(b, "subsystem_device_id", dev->subsystem_device_id, 4);
        add_hex(b, "revision", dev->revision, 2);
        add_hex(b, "class", dev->class_code, 6);
        add_string(b, "class_name", dev->class_name);
        add_string(b, "vendor", dev->vendor_name);
        add_string(b, "product", dev->product_name);
        add_string(b, "driver", dev->driver);
        add_int_or_null(b, "iommu_group", dev->iommu_group);
        add_int_or_null(b, "numa_node", dev->numa_node);
        add_bool(b, "is_bridge", hd_device_is_bridge(dev));
        add_bool(b, "multifunction", dev->multifunction);
        add_bool(b, "assignable", assignable);
        add_string(b, "assignable_reason", reason);
        /* state.h: the lifecycle state, null when the state was not decided */
        add_string(b, "state", dev->state >= 0 ? hd_device_state_to_string(dev->state) : NULL);
        add_string(b, "physfn", dev->physfn);
        add_string_array(b, "virtfns", dev->virtfns);
        add_int_or_null(b, "sriov_totalvfs", dev->sriov_totalvfs);
        add_int_or_null(b, "sriov_numvfs", dev->sriov_numvfs);
        /* whether the kernel binds drivers to the PF's new VFs; null for non-PFs */
        hd_json_writer_member(b, "sriov_drivers_autoprobe");
        if (dev->sriov_autoprobe < 0)
                hd_json_writer_null(b);
        else
                hd_json_writer_bool(b, dev->sriov_autoprobe == 1);
        hd_json_writer_member(b, "boot_vga");
        if (dev->boot_vga < 0)
                hd_json_writer_null(b);
        else
                hd_json_writer_bool(b, dev->boot_vga == 1);

        if (detail) {
                add_string(b, "driver_override", dev->driver_override);
                add_int_or_null(b, "header_type", dev->header_type);
                if (dev->fields & HD_FIELD_TOPOLOGY) {
                        add_string(b, "sysfs_path", dev->sysfs_path);
                        add_string_array(b, "upstream", dev->upstream);
                }
                if (dev->fields & HD_FIELD_CONFIG) {
                        add_string(b, "pcie_type",
                                   dev->is_pcie ? hd_pcie_type_to_string(dev->pcie_type) : NULL);
                        hd_json_writer_member(b, "acs");
                        if (!dev->has_acs) {
                                hd_json_writer_null(b);
                        } else {
                                hd_json_writer_begin_object(b);
                                add_hex(b, "capability", dev->acs_cap, 4);
                                add_hex(b, "control", dev->acs_ctrl, 4);
                                hd_json_writer_end_object(b);
                        }
                }
                if (dev->fields & HD_FIELD_LINK) {
                        add_link(b, "link_capability", &dev->link_max);
                        add_link(b, "link_status", &dev->link_current);
                }
                if (dev->fields & HD_FIELD_RESET) {
                        hd_json_writer_member(b, "reset_methods");
                        hd_json_writer_begin_array(b);
                        for (char **m = dev->reset_methods; m && *m; m++)
                                if (**m)
                                        hd_json_writer_string(b, *m);
                        hd_json_writer_end_array(b);
                        add_string(b, "reset_source", dev->reset_source);
                }
                if (dev->fields & HD_FIELD_USERS) {
                        add_string_array(b, "netdevs", dev->netdevs);
                        add_string_array(b, "blockdevs", dev->blockdevs);
                        add_string_array(b, "drm_cards", dev->drm_cards);
                }
        }
        hd_json_writer_end_object(b);
}

void hd_json_write_group(HdJsonWriter *b, const HdGroup *group)
{
        hd_json_writer_begin_object(b);
        hd_json_writer_member(b, "group");
        hd_json_writer_int(b, group->number);
        hd_json_writer_member(b, "devices");
        hd_json_writer_begin_array(b);
        for (guint i = 0; i < group->members->len; i++)
                hd_json_writer_string(b, ((HdDevice *)group->members->pdata[i])->name);
        hd_json_writer_end_array(b);
        hd_json_writer_member(b, "bridges");
        hd_json_writer_begin_array(b);
        for (guint i = 0; i < group->members->len; i++) {
                HdDevice *dev = group->members->pdata[i];
                if (hd_device_is_bridge(dev))
                        hd_json_writer_string(b, dev->name);
        }
        hd_json_writer_end_array(b);
        add_bool(b, "viable", group->viable);
        add_string(b, "verdict", group->verdict_text);
        add_string(b, "verdict_code", hd_group_verdict_to_string(group->verdict));
        add_string(b, "shared_reason", group->shared_reason);
        add_string_array(b, "host_use", group->host_use);
        /* state.h */
        add_string(b, "state", group->state >= 0 ? hd_group_state_to_string(group->state) : NULL);
        add_bool(b, "host_needs_it", group->host_needs_it);
        hd_json_writer_member(b, "held_by");
        hd_json_writer_begin_array(b);
        for (guint i = 0; i < group->holders->len; i++) {
                const HdHolder *h = group->holders->pdata[i];
                hd_json_writer_begin_object(b);
                hd_json_writer_member(b, "pid");
                hd_json_writer_int(b, h->pid);
                add_string(b, "process", h->process);
                add_string(b, "vm", h->vm);
                hd_json_writer_end_object(b);
        }
        hd_json_writer_end_array(b);
        {
                g_autofree char *journal =
                        group->interrupted ? g_strconcat("/", group->interrupted, NULL) : NULL;
                add_string(b, "interrupted", journal);
        }
        hd_json_writer_end_object(b);
}

void hd_json_add_device(JsonBuilder *b, const HdDevice *dev, gboolean detail)
{
        g_autoptr(HdJsonWriter) w = hd_json_writer_new_builder(b);

        hd_json_write_device(w, dev, detail);
}

void hd_json_add_group(JsonBuilder *b, const HdGroup *group)
{
        g_autoptr(HdJsonWriter) w = hd_json_writer_new_builder(b);

        hd_json_write_group(w, group);
}

char *hd_json_to_string(JsonBuilder *b, gboolean pretty)
{
        g_autoptr(JsonNode) root = json_builder_get_root(b);

        return hd_json_node_to_text(root, pretty);
}

static void builder_nullable(JsonBuilder *b, const char *name, const char *value)
{
        json_builder_set_member_name(b, name);
        if (value)
                json_builder_add_string_value(b, value);
        else
                json_builder_add_null_value(b);
}

void hd_json_add_write_log(JsonBuilder *b, HdCtx *ctx)
{
        const GPtrArray *log = hd_ctx_get_write_log(ctx);

        json_builder_set_member_name(b, "writes");
        json_builder_begin_array(b);
        for (guint i = 0; i < log->len; i++) {
                const HdCtxWrite *w = log->pdata[i];
                g_autofree char *path = w->op == HD_BACKEND_OP_LOAD_MODULE ||
                                                        w->op == HD_BACKEND_OP_RUN ||
                                                        w->op == HD_BACKEND_OP_NETLINK
                                                ? g_strdup(w->path)
                                                : g_strconcat("/", w->path, NULL);
                json_builder_begin_object(b);
                json_builder_set_member_name(b, "op");
                json_builder_add_string_value(b, hd_backend_op_to_string(w->op));
                json_builder_set_member_name(b, "path");
                json_builder_add_string_value(b, path);
                builder_nullable(b, "value", w->value);
                json_builder_end_object(b);
        }
        json_builder_end_array(b);
}

void hd_json_add_bind_report(JsonBuilder *b, HdCtx *ctx, const HdBindReport *report)
{
        json_builder_set_member_name(b, "devices");
        json_builder_begin_array(b);
        for (guint i = 0; i < report->devices->len; i++) {
                const HdBindDevice *d = report->devices->pdata[i];
                json_builder_begin_object(b);
                json_builder_set_member_name(b, "address");
                json_builder_add_string_value(b, d->name);
                json_builder_set_member_name(b, "iommu_group");
                if (d->group >= 0)
                        json_builder_add_int_value(b, d->group);
                else
                        json_builder_add_null_value(b);
                builder_nullable(b, "from_driver", d->from_driver);
                builder_nullable(b, "to_driver", d->to_driver);
                json_builder_set_member_name(b, "changed");
                json_builder_add_boolean_value(b, d->changed);
                json_builder_set_member_name(b, "requested");
                json_builder_add_boolean_value(b, d->requested);
                json_builder_set_member_name(b, "persist_removed");
                json_builder_add_boolean_value(b, d->persist_removed);
                json_builder_end_object(b);
        }
        json_builder_end_array(b);
        hd_json_add_write_log(b, ctx);
        json_builder_set_member_name(b, "dry_run");
        json_builder_add_boolean_value(b, report->dry_run);
        json_builder_set_member_name(b, "recovered");
        json_builder_add_int_value(b, report->recovered);
        json_builder_set_member_name(b, "recovery_writes");
        json_builder_add_int_value(b, report->recovery_writes);
        json_builder_set_member_name(b, "persisted");
        json_builder_add_boolean_value(b, report->persisted);
}

/* ---- kernel-args ---- */

static void add_path_or_null(JsonBuilder *b, const char *name, const char *path)
{
        json_builder_set_member_name(b, name);
        if (path) {
                g_autofree char *abs = g_strconcat("/", path, NULL);
                json_builder_add_string_value(b, abs);
        } else {
                json_builder_add_null_value(b);
        }
}

void hd_json_add_kernel_args_changes(JsonBuilder *b, const HdKernelArgs *ka)
{
        json_builder_set_member_name(b, "changes");
        json_builder_begin_array(b);
        for (guint i = 0; ka->changes && i < ka->changes->len; i++) {
                const HdBootloaderChange *c = ka->changes->pdata[i];

                json_builder_begin_object(b);
                add_path_or_null(b, "path", c->path);
                json_builder_set_member_name(b, "action");
                json_builder_add_string_value(b, c->create ? "create" : "replace");
                json_builder_set_member_name(b, "diff");
                json_builder_add_string_value(b, c->diff);
                add_path_or_null(b, "backup", c->backup);
                add_path_or_null(b, "first_backup", c->create ? NULL : c->first_backup);
                json_builder_end_object(b);
        }
        json_builder_end_array(b);

        json_builder_set_member_name(b, "update");
        if (!ka->update) {
                json_builder_add_null_value(b);
                return;
        }
        json_builder_begin_object(b);
        json_builder_set_member_name(b, "command");
        json_builder_begin_array(b);
        for (char **a = ka->update->argv; a && *a; a++)
                json_builder_add_string_value(b, *a);
        json_builder_end_array(b);
        json_builder_set_member_name(b, "ran");
        json_builder_add_boolean_value(b, ka->update->ran);
        json_builder_set_member_name(b, "exit_status");
        if (ka->update->ran && ka->update->exit_status >= 0)
                json_builder_add_int_value(b, ka->update->exit_status);
        else
                json_builder_add_null_value(b);
        json_builder_set_member_name(b, "succeeded");
        json_builder_add_boolean_value(b, ka->update->succeeded);
        json_builder_set_member_name(b, "output_tail");
        json_builder_add_string_value(b, ka->update->output_tail);
        json_builder_end_object(b);
}

void hd_json_add_vfio_info(JsonBuilder *b, const char *name, const HdVfioInfo *info)
{
        json_builder_begin_object(b);
        json_builder_set_member_name(b, "address");
        json_builder_add_string_value(b, name);
        json_builder_set_member_name(b, "usable");
        json_builder_add_boolean_value(b, TRUE);
        json_builder_set_member_name(b, "iommu_group");
        json_builder_add_int_value(b, info->group);
        json_builder_set_member_name(b, "viable");
        json_builder_add_boolean_value(b, info->viable);
        json_builder_set_member_name(b, "api_version");
        json_builder_add_int_value(b, info->api_version);
        json_builder_set_member_name(b, "type1");
        json_builder_add_boolean_value(b, info->type1);
        json_builder_set_member_name(b, "reset");
        json_builder_add_boolean_value(b, info->reset);
        json_builder_set_member_name(b, "num_regions");
        json_builder_add_int_value(b, info->num_regions);
        json_builder_set_member_name(b, "num_irqs");
        json_builder_add_int_value(b, info->num_irqs);
        json_builder_set_member_name(b, "regions");
        json_builder_begin_array(b);
        for (guint i = 0; i < info->regions->len; i++) {
                const HdVfioRegion *r = &g_array_index(info->regions, HdVfioRegion, i);
                json_builder_begin_object(b);
                json_builder_set_member_name(b, "index");
                json_builder_add_int_value(b, r->index);
                json_builder_set_member_name(b, "name");
                json_builder_add_string_value(b, hd_vfio_region_name(r->index));
                json_builder_set_member_name(b, "size");
                json_builder_add_int_value(b, (gint64)r->size);
                json_builder_set_member_name(b, "read");
                json_builder_add_boolean_value(b, r->readable);
                json_builder_set_member_name(b, "write");
                json_builder_add_boolean_value(b, r->writable);
                json_builder_set_member_name(b, "mmap");
                json_builder_add_boolean_value(b, r->mmap);
                json_builder_end_object(b);
        }
        json_builder_end_array(b);
        json_builder_set_member_name(b, "irqs");
        json_builder_begin_array(b);
        for (guint i = 0; i < info->irqs->len; i++) {
                const HdVfioIrq *q = &g_array_index(info->irqs, HdVfioIrq, i);
                json_builder_begin_object(b);
                json_builder_set_member_name(b, "index");
                json_builder_add_int_value(b, q->index);
                json_builder_set_member_name(b, "name");
                json_builder_add_string_value(b, hd_vfio_irq_name(q->index));
                json_builder_set_member_name(b, "count");
                json_builder_add_int_value(b, q->count);
                json_builder_end_object(b);
        }
        json_builder_end_array(b);
        json_builder_set_member_name(b, "source");
        json_builder_add_string_value(b, info->source ? info->source : "kernel");
        json_builder_end_object(b);
}

static const char *net_use_code(HdNetUse use)
{
        return use == HD_NET_DEFAULT_ROUTE ? "default-route" : "address";
}

void hd_json_set_device_extras(JsonObject *obj, HdCtx *ctx, const HdDevice *dev)
{
        g_autoptr(GPtrArray) modules = hd_device_kernel_modules(ctx, &dev->address, NULL);
        g_autoptr(HdInventory) bus = hd_inventory_scan(ctx, 0, NULL);
        g_autofree char *warning =
            bus ? hd_device_reset_warning((const char *const *)dev->reset_methods, dev->name,
                                          hd_inventory_bus_mates(bus, dev))
                : NULL;
        JsonArray *mods = json_array_new();
        JsonArray *caps = json_array_new();

        for (guint i = 0; modules && i < modules->len; i++)
                json_array_add_string_element(mods, modules->pdata[i]);
        json_object_set_array_member(obj, "kernel_modules", mods);
        for (guint i = 0; dev->capabilities && i < dev->capabilities->len; i++) {
                const HdCapability *c = &g_array_index(dev->capabilities, HdCapability, i);
                const char *name = hd_pci_capability_name(c->id, c->extended);
                JsonObject *co = json_object_new();

                json_object_set_int_member(co, "offset", c->offset);
                json_object_set_int_member(co, "id", c->id);
                json_object_set_boolean_member(co, "extended", c->extended);
                json_object_set_int_member(co, "version", c->version);
                if (name)
                        json_object_set_string_member(co, "name", name);
                else
                        json_object_set_null_member(co, "name");
                json_array_add_object_element(caps, co);
        }
        json_object_set_array_member(obj, "capabilities", caps);
        if (warning)
                json_object_set_string_member(obj, "reset_warning", warning);
        else
                json_object_set_null_member(obj, "reset_warning");
}

void hd_json_set_host_use(JsonObject *obj, HdCtx *ctx, const HdDevice *dev)
{
        g_autoptr(GPtrArray) uses = hd_usage_describe(ctx, dev);
        g_autoptr(GPtrArray) clients = hd_usage_gpu_clients(ctx, dev);
        g_autoptr(HdFramebuffer) fb = hd_usage_framebuffer(ctx, dev);
        JsonArray *a = json_array_new();
        JsonArray *net = json_array_new();
        JsonArray *gpu = json_array_new();

        for (guint i = 0; i < uses->len; i++)
                json_array_add_string_element(a, uses->pdata[i]);
        json_object_set_array_member(obj, "host_use", a);

        for (guint i = 0; i < dev->netdevs->len; i++) {
                g_autoptr(HdNetUsage) u = hd_usage_netdev_full(ctx, dev->netdevs->pdata[i]);
                JsonObject *o;
                JsonArray *via;

                if (u->use == HD_NET_IDLE)
                        continue;
                o = json_object_new();
                via = json_array_new();
                json_object_set_string_member(o, "interface", u->ifname);
                json_object_set_string_member(o, "use", net_use_code(u->use));
                json_object_set_string_member(o, "carrier", u->carrier);
                for (guint k = 0; k < u->via->len; k++) {
                        HdNetHop *hop = u->via->pdata[k];
                        JsonObject *h = json_object_new();
                        json_object_set_string_member(h, "interface", hop->ifname);
                        json_object_set_string_member(h, "kind", hop->kind);
                        json_array_add_object_element(via, h);
                }
                json_object_set_array_member(o, "via", via);
                json_object_set_string_member(o, "detail", u->detail);
                json_object_set_string_member(o, "text", u->text);
                json_array_add_object_element(net, o);
        }
        json_object_set_array_member(obj, "network_use", net);

        for (guint i = 0; i < clients->len; i++) {
                HdProcUse *u = clients->pdata[i];
                JsonObject *o = json_object_new();
                JsonArray *nodes = json_array_new();

                json_object_set_int_member(o, "pid", u->pid);
                json_object_set_string_member(o, "comm", u->comm);
                for (guint k = 0; k < u->nodes->len; k++)
                        json_array_add_string_element(nodes, u->nodes->pdata[k]);
                json_object_set_array_member(o, "nodes", nodes);
                json_array_add_object_element(gpu, o);
        }
        json_object_set_array_member(obj, "gpu_clients", gpu);

        if (fb) {
                JsonObject *o = json_object_new();
                g_autofree char *text = hd_framebuffer_describe(ctx, fb);

                json_object_set_string_member(o, "fb", fb->fb);
                json_object_set_string_member(o, "name", fb->name);
                if (fb->driver)
                        json_object_set_string_member(o, "driver", fb->driver);
                else
                        json_object_set_null_member(o, "driver");
                json_object_set_boolean_member(o, "firmware", fb->firmware);
                json_object_set_boolean_member(o, "console", fb->console);
                json_object_set_boolean_member(o, "release_configured", fb->release_configured);
                if (fb->firmware && !fb->release_in_cmdline && !fb->release_configured)
                        json_object_set_string_member(o, "release_option",
                                                      HD_FRAMEBUFFER_RELEASE_OPTION);
                else
                        json_object_set_null_member(o, "release_option");
                json_object_set_string_member(o, "text", text);
                json_object_set_object_member(obj, "framebuffer", o);
        } else {
                json_object_set_null_member(obj, "framebuffer");
        }
}

void hd_json_add_string_list(JsonBuilder *b, const char *name, GPtrArray *values)
{
        json_builder_set_member_name(b, name);
        json_builder_begin_array(b);
        for (guint i = 0; values && i < values->len; i++)
                json_builder_add_string_value(b, values->pdata[i]);
        json_builder_end_array(b);
}

void hd_json_add_string_or_null(JsonBuilder *b, const char *name, const char *value)
{
        json_builder_set_member_name(b, name);
        if (value)
                json_builder_add_string_value(b, value);
        else
                json_builder_add_null_value(b);
}

void hd_json_add_int_or_null(JsonBuilder *b, const char *name, gint64 value)
{
        json_builder_set_member_name(b, name);
        if (value < 0)
                json_builder_add_null_value(b);
        else
                json_builder_add_int_value(b, value);
}

void hd_json_add_bool(JsonBuilder *b, const char *name, gboolean value)
{
        json_builder_set_member_name(b, name);
        json_builder_add_boolean_value(b, value);
}

void hd_json_add_tristate(JsonBuilder *b, const char *name, int value)
{
        json_builder_set_member_name(b, name);
        if (value < 0)
                json_builder_add_null_value(b);
        else
                json_builder_add_boolean_value(b, value != 0);
}

void hd_json_add_host_report(JsonBuilder *b, const HdHostReport *r)
{
        json_builder_set_member_name(b, "checks");
        json_builder_begin_array(b);
        for (guint i = 0; i < r->checks->len; i++) {
                const HdCheck *c = r->checks->pdata[i];
                json_builder_begin_object(b);
                hd_json_add_string_or_null(b, "id", c->id);
                hd_json_add_string_or_null(b, "status", hd_check_status_to_string(c->status));
                hd_json_add_string_or_null(b, "summary", c->summary);
                hd_json_add_string_or_null(b, "hint", c->hint);
                json_builder_end_object(b);
        }
        json_builder_end_array(b);
        json_builder_set_member_name(b, "passthrough_possible");
        json_builder_add_boolean_value(b, r->passthrough_possible);
        json_builder_set_member_name(b, "interrupted_operations");
        json_builder_add_int_value(b, r->interrupted_operations);
        hd_json_add_string_or_null(b, "cpu_vendor", hd_cpu_vendor_to_string(r->cpu_vendor));
        hd_json_add_string_or_null(b, "kernel_release", r->kernel_release);
}
