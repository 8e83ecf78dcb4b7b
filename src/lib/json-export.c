/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "json-export.h"

static void add_hex(JsonBuilder *b, const char *name, int value, int digits)
{
        json_builder_set_member_name(b, name);
        if (value < 0) {
                json_builder_add_null_value(b);
        } else {
                char buf[16];
                g_snprintf(buf, sizeof(buf), "%0*x", digits, (unsigned)value);
                json_builder_add_string_value(b, buf);
        }
}

static void add_string(JsonBuilder *b, const char *name, const char *value)
{
        json_builder_set_member_name(b, name);
        if (value)
                json_builder_add_string_value(b, value);
        else
                json_builder_add_null_value(b);
}

static void add_int_or_null(JsonBuilder *b, const char *name, gint64 value)
{
        json_builder_set_member_name(b, name);
        if (value < 0)
                json_builder_add_null_value(b);
        else
                json_builder_add_int_value(b, value);
}

static void add_bool(JsonBuilder *b, const char *name, gboolean value)
{
        json_builder_set_member_name(b, name);
        json_builder_add_boolean_value(b, value);
}

static void add_string_array(JsonBuilder *b, const char *name, GPtrArray *values)
{
        json_builder_set_member_name(b, name);
        json_builder_begin_array(b);
        for (guint i = 0; values && i < values->len; i++)
                json_builder_add_string_value(b, values->pdata[i]);
        json_builder_end_array(b);
}

static void add_link(JsonBuilder *b, const char *name, const HdLink *link)
{
        json_builder_set_member_name(b, name);
        if (!link->speed && !link->width) {
                json_builder_add_null_value(b);
                return;
        }
        json_builder_begin_object(b);
        add_string(b, "speed", hd_pcie_speed_to_string(link->speed));
        add_int_or_null(b, "width", link->width ? link->width : -1);
        json_builder_end_object(b);
}

void hd_json_add_device(JsonBuilder *b, const HdDevice *dev, gboolean detail)
{
        const char *reason = NULL;
        gboolean assignable = hd_device_is_assignable(dev, &reason);

        json_builder_begin_object(b);
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
        add_string(b, "physfn", dev->physfn);
        add_string_array(b, "virtfns", dev->virtfns);
        add_int_or_null(b, "sriov_totalvfs", dev->sriov_totalvfs);
        add_int_or_null(b, "sriov_numvfs", dev->sriov_numvfs);
        json_builder_set_member_name(b, "boot_vga");
        if (dev->boot_vga < 0)
                json_builder_add_null_value(b);
        else
                json_builder_add_boolean_value(b, dev->boot_vga == 1);

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
                        json_builder_set_member_name(b, "acs");
                        if (!dev->has_acs) {
                                json_builder_add_null_value(b);
                        } else {
                                json_builder_begin_object(b);
                                add_hex(b, "capability", dev->acs_cap, 4);
                                add_hex(b, "control", dev->acs_ctrl, 4);
                                json_builder_end_object(b);
                        }
                }
                if (dev->fields & HD_FIELD_LINK) {
                        add_link(b, "link_capability", &dev->link_max);
                        add_link(b, "link_status", &dev->link_current);
                }
                if (dev->fields & HD_FIELD_RESET) {
                        json_builder_set_member_name(b, "reset_methods");
                        json_builder_begin_array(b);
                        for (char **m = dev->reset_methods; m && *m; m++)
                                if (**m)
                                        json_builder_add_string_value(b, *m);
                        json_builder_end_array(b);
                        add_string(b, "reset_source", dev->reset_source);
                }
                if (dev->fields & HD_FIELD_USERS) {
                        add_string_array(b, "netdevs", dev->netdevs);
                        add_string_array(b, "blockdevs", dev->blockdevs);
                        add_string_array(b, "drm_cards", dev->drm_cards);
                }
        }
        json_builder_end_object(b);
}

void hd_json_add_group(JsonBuilder *b, const HdGroup *group)
{
        json_builder_begin_object(b);
        json_builder_set_member_name(b, "group");
        json_builder_add_int_value(b, group->number);
        json_builder_set_member_name(b, "devices");
        json_builder_begin_array(b);
        for (guint i = 0; i < group->members->len; i++)
                json_builder_add_string_value(b, ((HdDevice *)group->members->pdata[i])->name);
        json_builder_end_array(b);
        json_builder_set_member_name(b, "bridges");
        json_builder_begin_array(b);
        for (guint i = 0; i < group->members->len; i++) {
                HdDevice *dev = group->members->pdata[i];
                if (hd_device_is_bridge(dev))
                        json_builder_add_string_value(b, dev->name);
        }
        json_builder_end_array(b);
        add_bool(b, "viable", group->viable);
        add_string(b, "verdict", group->verdict_text);
        add_string(b, "verdict_code", hd_group_verdict_to_string(group->verdict));
        add_string(b, "shared_reason", group->shared_reason);
        add_string_array(b, "host_use", group->host_use);
        json_builder_end_object(b);
}

char *hd_json_to_string(JsonBuilder *b, gboolean pretty)
{
        g_autoptr(JsonGenerator) gen = json_generator_new();
        g_autoptr(JsonNode) root = json_builder_get_root(b);

        json_generator_set_pretty(gen, pretty);
        json_generator_set_indent(gen, 2);
        json_generator_set_root(gen, root);
        return json_generator_to_data(gen, NULL);
}
