/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The stable JSON object of one USB device (docs/json.md, `hostdev usb list|show --json`; the
 * agent's inventory serves the same). Add fields, never rename or retype them. */
#include "config.h"

#include "json-export.h"
#include "usb.h"

static void add_hex(JsonBuilder *b, const char *name, int value, int digits)
{
        json_builder_set_member_name(b, name);
        if (value < 0) {
                json_builder_add_null_value(b);
        } else {
                g_autofree char *s = g_strdup_printf("%0*x", digits, (guint)value);
                json_builder_add_string_value(b, s);
        }
}

void hd_usb_json_add_device(JsonBuilder *b, const HdUsbDevice *dev)
{
        g_autofree char *kind = hd_usb_device_kind(dev);

        json_builder_begin_object(b);
        hd_json_add_string_or_null(b, "port_path", dev->port_path);
        hd_json_add_tristate(b, "root_hub", dev->root_hub);
        hd_json_add_int_or_null(b, "busnum", dev->busnum);
        hd_json_add_int_or_null(b, "devnum", dev->devnum);
        hd_json_add_string_or_null(b, "devpath", dev->devpath);
        add_hex(b, "vendor_id", dev->vendor_id, 4);
        add_hex(b, "product_id", dev->product_id, 4);
        hd_json_add_string_or_null(b, "manufacturer", dev->manufacturer);
        hd_json_add_string_or_null(b, "product", dev->product);
        hd_json_add_string_or_null(b, "serial", dev->serial);
        hd_json_add_string_or_null(b, "vendor_name", dev->vendor_name);
        hd_json_add_string_or_null(b, "product_name", dev->product_name);
        hd_json_add_string_or_null(b, "speed", dev->speed);
        hd_json_add_tristate(b, "superspeed", hd_usb_device_is_superspeed(dev));
        add_hex(b, "device_class", dev->device_class, 2);
        hd_json_add_string_or_null(b, "kind", kind);
        hd_json_add_string_or_null(b, "removable", dev->removable);
        hd_json_add_tristate(b, "authorized", dev->authorized);
        hd_json_add_int_or_null(b, "maxchild", dev->maxchild);
        hd_json_add_string_or_null(b, "controller", dev->controller);
        hd_json_add_int_or_null(b, "iommu_group", dev->iommu_group);
        hd_json_add_string_or_null(b, "node", dev->node);
        hd_json_add_string_or_null(b, "sysfs_path", dev->sysfs_path);
        json_builder_set_member_name(b, "interfaces");
        json_builder_begin_array(b);
        for (guint i = 0; i < dev->interfaces->len; i++) {
                const HdUsbInterface *f = dev->interfaces->pdata[i];
                json_builder_begin_object(b);
                hd_json_add_string_or_null(b, "name", f->name);
                hd_json_add_int_or_null(b, "number", f->number);
                add_hex(b, "class", f->iface_class, 2);
                add_hex(b, "subclass", f->subclass, 2);
                add_hex(b, "protocol", f->protocol, 2);
                hd_json_add_string_or_null(b, "class_name",
                                           f->iface_class >= 0 ? hd_usb_class_name(f->iface_class)
                                                               : NULL);
                hd_json_add_string_or_null(b, "driver", f->driver);
                hd_json_add_string_list(b, "blockdevs", f->blockdevs);
                json_builder_end_object(b);
        }
        json_builder_end_array(b);
        hd_json_add_string_or_null(b, "verdict", dev->verdict);
        hd_json_add_tristate(b, "forceable", dev->verdict ? dev->forceable : -1);
        hd_json_add_string_list(b, "reasons", dev->reasons);
        json_builder_set_member_name(b, "holders");
        json_builder_begin_array(b);
        for (guint i = 0; i < dev->holders->len; i++) {
                const HdUsbHolder *h = dev->holders->pdata[i];
                json_builder_begin_object(b);
                hd_json_add_int_or_null(b, "pid", h->pid);
                hd_json_add_string_or_null(b, "comm", h->comm);
                hd_json_add_string_or_null(b, "vm", h->vm);
                json_builder_end_object(b);
        }
        json_builder_end_array(b);
        hd_json_add_string_list(b, "host_use", dev->host_use);
        json_builder_end_object(b);
}

void hd_usb_json_add_guest_xml(JsonBuilder *b, const char *xml, GPtrArray *warnings)
{
        json_builder_set_member_name(b, "hostdev_xml");
        json_builder_add_string_value(b, xml);
        hd_json_add_string_list(b, "warnings", warnings);
}
