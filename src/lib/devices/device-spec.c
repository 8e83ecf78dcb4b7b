/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <string.h>

#include "device-spec.h"
#include "hd-error.h"
#include "inventory.h"

static gboolean matches(const HdDeviceSpec *spec, const HdDevice *dev)
{
        if (spec->kind == HD_DEVICE_SPEC_SLOT)
                return hd_address_same_slot(&spec->address, &dev->address) &&
                       spec->address.domain == dev->address.domain;
        return dev->vendor_id == spec->vendor && dev->device_id == spec->device;
}

static char *join(GArray *addrs)
{
        GString *s = g_string_new(NULL);
        char buf[HD_ADDRESS_STRLEN];

        for (guint i = 0; i < addrs->len; i++)
                g_string_append_printf(s, "%s%s", i ? ", " : "",
                                       hd_address_format(&g_array_index(addrs, HdAddress, i), buf));
        return g_string_free(s, FALSE);
}

gboolean hd_device_spec_resolve(HdCtx *ctx, const HdDeviceSpec *spec, const char *text,
                                gboolean many, const char *command, GArray *out, GError **error)
{
        g_autoptr(HdInventory) inv = NULL;
        g_autoptr(GArray) found = NULL;
        g_autofree char *list = NULL;
        char buf[HD_ADDRESS_STRLEN];

        if (spec->kind == HD_DEVICE_SPEC_ADDRESS) {
                g_array_append_val(out, spec->address);
                return TRUE;
        }
        inv = hd_inventory_scan(ctx, HD_FIELD_IDS, error);
        if (!inv)
                return FALSE;
        found = g_array_new(FALSE, FALSE, sizeof(HdAddress));
        for (guint i = 0; i < inv->devices->len; i++) {
                const HdDevice *dev = inv->devices->pdata[i];
                if (matches(spec, dev))
                        g_array_append_val(found, dev->address);
        }
        list = join(found);
        if (spec->kind == HD_DEVICE_SPEC_IDS) {
                if (found->len == 0) {
                        g_set_error(error, HD_ERROR, HD_ERROR_NOT_FOUND,
                                    "no device with vendor:device %04x:%04x (%s); hostdev list "
                                    "--vendor %04x shows that vendor's devices",
                                    spec->vendor, spec->device, text, spec->vendor);
                        return FALSE;
                }
                if (found->len > 1) {
                        g_set_error(error, HD_ERROR, HD_ERROR_INVALID_ARGUMENT,
                                    "%u devices have vendor:device %s: %s; name one by its "
                                    "address, e.g. %s %s",
                                    found->len, text, list, command,
                                    hd_address_format(&g_array_index(found, HdAddress, 0), buf));
                        return FALSE;
                }
        } else {
                g_autofree char *slot = NULL;

                hd_address_format(&spec->address, buf);
                slot = g_strndup(buf, strlen(buf) - 2); /* without ".F" */
                if (found->len == 0) {
                        g_set_error(error, HD_ERROR, HD_ERROR_NOT_FOUND,
                                    "no device in slot %s; hostdev list shows the devices "
                                    "present",
                                    slot);
                        return FALSE;
                }
                if (!many && found->len > 1) {
                        g_set_error(error, HD_ERROR, HD_ERROR_INVALID_ARGUMENT,
                                    "slot %s holds %u devices (%s); %s takes one: name it "
                                    "with its function, e.g. %s %s",
                                    slot, found->len, list, command, command,
                                    hd_address_format(&g_array_index(found, HdAddress, 0), buf));
                        return FALSE;
                }
        }
        g_array_append_vals(out, found->data, found->len);
        return TRUE;
}
